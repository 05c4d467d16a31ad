// Input domains: the --box syntax, validation and the compact description.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "relutope/domain.h"
#include "relutope/error.h"

namespace {

using relutope::Domain;
using relutope::InputError;
using relutope::parse_box;
using testing::AllOf;
using testing::HasSubstr;
using testing::ThrowsMessage;

std::function<void()> parsing(const std::string& text, int dim) {
  return [text, dim] { parse_box(text, dim); };
}

// ---------------------------------------------------------------------------------------------- parse_box

TEST(ParseBox, BroadcastsOneIntervalToACube) {
  const Domain d = parse_box("-1:1", 3);
  EXPECT_EQ(d.dim(), 3);
  EXPECT_EQ(d.lo, Eigen::VectorXd::Constant(3, -1.0));
  EXPECT_EQ(d.hi, Eigen::VectorXd::Constant(3, 1.0));
  EXPECT_TRUE(d.is_box());
}

TEST(ParseBox, ReadsOneIntervalPerDimension) {
  const Domain d = parse_box("-1:1,0:2", 2);
  EXPECT_EQ(d.lo, Eigen::Vector2d(-1, 0));
  EXPECT_EQ(d.hi, Eigen::Vector2d(1, 2));
  EXPECT_EQ(d.describe(), "[-1,1]x[0,2]");
}

TEST(ParseBox, ReadsDecimalsAndExponents) {
  const Domain d = parse_box("0.5:1.5e0", 1);
  ASSERT_EQ(d.dim(), 1);
  EXPECT_EQ(d.lo[0], 0.5);
  EXPECT_EQ(d.hi[0], 1.5);
}

TEST(ParseBox, ReadsASingleIntervalForAOneInputNetwork) {
  const Domain d = parse_box("-2:-1", 1);
  EXPECT_EQ(d.lo[0], -2.0);
  EXPECT_EQ(d.hi[0], -1.0);
}

TEST(ParseBox, RejectsAnEmptyIntervalNamingTheDimension) {
  EXPECT_THAT(parsing("1:0", 1), ThrowsMessage<InputError>(AllOf(HasSubstr("--box"), HasSubstr("\"1:0\""),
                                                                   HasSubstr("dimension 0"), HasSubstr("lo 1 > hi 0"))));
}

TEST(ParseBox, RejectsAZeroWidthIntervalNamingTheDimension) {
  EXPECT_THAT(parsing("-1:1,2:2", 2), ThrowsMessage<InputError>(AllOf(HasSubstr("dimension 1"), HasSubstr("lo 2 = hi 2"))));
}

TEST(ParseBox, RejectsAnIntervalCountThatIsNeitherOneNorTheDimension) {
  EXPECT_THAT(parsing("-1:1,0:1", 3),
              ThrowsMessage<InputError>(AllOf(HasSubstr("\"-1:1,0:1\""), HasSubstr("expected 1 or 3"), HasSubstr("got 2"))));
}

TEST(ParseBox, RejectsAWordForANumber) {
  EXPECT_THAT(parsing("a:1", 1), ThrowsMessage<InputError>(AllOf(HasSubstr("\"a:1\": lo is not a number"), HasSubstr("\"a\""))));
}

// Issue 8: each malformed --box gets its own message.
TEST(ParseBox, Issue8ReadsAnUnderflowAsTheTinyNumberItIs) {
  const Domain d = parse_box("-1:1e-400", 1);  // rounds to 0 (or a subnormal), like any number parser
  EXPECT_EQ(d.lo[0], -1.0);
  EXPECT_GE(d.hi[0], 0.0);
  EXPECT_LT(d.hi[0], 1e-300);
}

TEST(ParseBox, Issue8AllowsSpacesAroundNumbers) {
  const Domain d = parse_box(" -1 : 1 , 0:2 ", 2);
  EXPECT_EQ(d.lo, Eigen::Vector2d(-1, 0));
  EXPECT_EQ(d.hi, Eigen::Vector2d(1, 2));
}

TEST(ParseBox, Issue8NamesAnEmptyIntervalOrBound) {
  EXPECT_THAT(parsing("-1:1,,0:1", 3), ThrowsMessage<InputError>(HasSubstr("\"-1:1,,0:1\": interval 1 is empty")));
  EXPECT_THAT(parsing("-1:1,", 2), ThrowsMessage<InputError>(HasSubstr("interval 1 is empty")));
  EXPECT_THAT(parsing(":1", 1), ThrowsMessage<InputError>(HasSubstr("\":1\": lo is missing")));
  EXPECT_THAT(parsing("1:2:3", 1), ThrowsMessage<InputError>(HasSubstr("\"1:2:3\": expected lo:hi")));
}

TEST(ParseBox, RejectsANumberWithoutAColon) {
  EXPECT_THAT(parsing("1", 1), ThrowsMessage<InputError>(AllOf(HasSubstr("\"1\""), HasSubstr("expected lo:hi"))));
}

TEST(ParseBox, RejectsAnEmptyText) {
  EXPECT_THAT(parsing("", 2), ThrowsMessage<InputError>(HasSubstr("expected lo:hi")));
}

TEST(ParseBox, RejectsAnEmptyPartAfterATrailingComma) {
  EXPECT_THAT(parsing("-1:1,", 2), ThrowsMessage<InputError>(HasSubstr("expected lo:hi")));
}

TEST(ParseBox, RejectsThreeNumbersInOnePart) {
  EXPECT_THAT(parsing("1:2:3", 1), ThrowsMessage<InputError>(AllOf(HasSubstr("\"1:2:3\""), HasSubstr("expected lo:hi"))));
}

TEST(ParseBox, RejectsNaN) {
  EXPECT_THAT(parsing("nan:1", 1), ThrowsMessage<InputError>(AllOf(HasSubstr("--box: \"nan:1\": lo is NaN"), HasSubstr("finite"))));
}

TEST(ParseBox, RejectsAnInfiniteBound) {
  EXPECT_THAT(parsing("-inf:1", 1), ThrowsMessage<InputError>(AllOf(HasSubstr("lo \"-inf\" is infinite"), HasSubstr("the box must be bounded"))));
}

TEST(ParseBox, RejectsANumberTooLargeForADouble) {
  EXPECT_THAT(parsing("-1e999:1", 1), ThrowsMessage<InputError>(HasSubstr("lo \"-1e999\" is too large for a double")));
}

TEST(ParseBox, RejectsTrailingCharactersAfterANumber) {
  EXPECT_THAT(parsing("-1:1x", 1), ThrowsMessage<InputError>(AllOf(HasSubstr("hi is not a number"), HasSubstr("\"1x\""))));
}

// ---------------------------------------------------------------------------------------------- Domain

TEST(Domain, CubeHasTheSameIntervalInEveryDimension) {
  const Domain d = Domain::cube(2, -1, 1);
  EXPECT_EQ(d.dim(), 2);
  EXPECT_EQ(d.describe(), "[-1,1]^2");
  EXPECT_DOUBLE_EQ(d.box_volume(), 4.0);
  EXPECT_DOUBLE_EQ(d.diameter(), std::sqrt(8.0));
  EXPECT_NO_THROW(d.validate());
}

TEST(Domain, ValidateRejectsBoundsOfUnequalSizes) {
  const Domain d = Domain::box(Eigen::VectorXd::Zero(2), Eigen::VectorXd::Ones(3));
  EXPECT_THAT([&] { d.validate(); }, ThrowsMessage<InputError>(HasSubstr("lo has 2 entries but hi has 3")));
}

TEST(Domain, ValidateRejectsABoxWithoutDimensions) {
  const Domain d = Domain::box(Eigen::VectorXd(), Eigen::VectorXd());
  EXPECT_THAT([&] { d.validate(); }, ThrowsMessage<InputError>(HasSubstr("no dimensions")));
}

TEST(Domain, ValidateListsEveryBadDimension) {
  const Domain d = Domain::box(Eigen::Vector3d(0, 1, -INFINITY), Eigen::Vector3d(1, 0, 1));
  EXPECT_THAT([&] { d.validate(); },
              ThrowsMessage<InputError>(AllOf(HasSubstr("dimension 1: lo 1 > hi 0"), HasSubstr("dimension 2"),
                                              HasSubstr("finite"), testing::Not(HasSubstr("dimension 0")))));
}

TEST(Domain, ValidateChecksTheExtraConstraints) {
  Domain d = Domain::cube(2, -1, 1);
  relutope::Halfspace h;
  h.a = Eigen::Vector3d(1, 0, 0);
  d.extra.push_back(h);
  EXPECT_FALSE(d.is_box());
  EXPECT_THAT([&] { d.validate(); }, ThrowsMessage<InputError>(HasSubstr("constraint 0: expected 2 coefficients, got 3")));
}

TEST(Domain, DescribesANonUniformBoxIntervalByInterval) {
  EXPECT_EQ(Domain::box(Eigen::Vector2d(-1, 0), Eigen::Vector2d(1, 2.5)).describe(), "[-1,1]x[0,2.5]");
}

}  // namespace
