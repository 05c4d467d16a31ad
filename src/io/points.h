#pragma once
// Points files for --points (load_points in slice.h): CSV text and NumPy .npy arrays.
#include <Eigen/Core>
#include <string>

namespace relutope::detail {

/// One point per line. Fields are separated by commas, semicolons or tabs (empty fields are errors), or
/// else by spaces. Blank lines and lines starting with '#' are skipped, and so is a first line that is
/// not all numbers (a header). Every value must be a finite number.
/// @throws InputError naming the file, the line and the field (fields counted from 0)
Eigen::MatrixXd read_csv_points(const std::string& path);

/// A 2-D .npy array (format versions 1 to 3), points x coordinates, of float32/float64 or an integer
/// type in either byte order, in C or Fortran order. The header's shape is checked against the file's
/// size before anything is allocated. Every value must be finite.
/// @throws InputError naming the file and what is wrong
Eigen::MatrixXd read_npy_points(const std::string& path);

}  // namespace relutope::detail
