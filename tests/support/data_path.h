#pragma once
#include <filesystem>
#include <string>

// A file of tests/data.
inline std::string data_path(const std::string& name) { return std::string(RELUTOPE_TEST_DATA_DIR) + "/" + name; }

// A path for a file a test writes, in a folder of the system's temporary directory.
inline std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "relutope_tests";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}
