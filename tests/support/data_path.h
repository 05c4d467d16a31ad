#pragma once
#include <string>

inline std::string data_path(const std::string& name) { return std::string(RELUTOPE_TEST_DATA_DIR) + "/" + name; }
