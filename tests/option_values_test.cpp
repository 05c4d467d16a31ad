// The text of option values (tools/relutope/option_values.h): --box, --engine, --color and --arch as
// the command and the Python module read them. Messages say what is wrong with the value; the front
// end names the option (with_option_name).
#include "option_values.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "relutope/error.h"

namespace {

using relutope::Architecture;
using relutope::ColorBy;
using relutope::Domain;
using relutope::Engine;
using relutope::InputError;
using relutope::cli::parse_architecture;
using relutope::cli::parse_box;
using relutope::cli::parse_color_by;
using relutope::cli::parse_engine;
using relutope::cli::with_option_name;
using testing::AllOf;
using testing::HasSubstr;
using testing::Not;
using testing::StartsWith;
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
  EXPECT_THAT(parsing("1:0", 1), ThrowsMessage<InputError>(AllOf(HasSubstr("\"1:0\""),
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

// Issue 8: each malformed box gets its own message.
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
  EXPECT_THAT(parsing("nan:1", 1), ThrowsMessage<InputError>(AllOf(HasSubstr("\"nan:1\": lo is NaN"), HasSubstr("finite"))));
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

// The parser says what is wrong with the value, not which option it came from; the front end adds that.
TEST(ParseBox, MessagesDoNotNameAnOption) {
  EXPECT_THAT(parsing("1:0", 1), ThrowsMessage<InputError>(AllOf(StartsWith("\"1:0\": invalid:"), Not(HasSubstr("--")),
                                                                   Not(HasSubstr("domain:")))));
}

TEST(WithOptionName, PrefixesTheOptionToAnInputError) {
  EXPECT_THAT([] { with_option_name("--box", [] { return parse_box("1:x", 1); }); },
              ThrowsMessage<InputError>(StartsWith("--box: \"1:x\": hi is not a number: \"x\"")));
  EXPECT_EQ(with_option_name("--engine", [] { return parse_engine("lp"); }), Engine::kLp);
}

// ---------------------------------------------------------------------------------------------- engine, color

TEST(ParseEngine, ReadsEveryEngineName) {
  for (Engine e : {Engine::kAuto, Engine::kVertex, Engine::kLp, Engine::kExact}) EXPECT_EQ(parse_engine(relutope::engine_name(e)), e);
  EXPECT_THAT([] { parse_engine("fast"); }, ThrowsMessage<InputError>("expected auto, vertex, lp or exact, got \"fast\""));
}

TEST(ParseColorBy, ReadsRegionOutputAndClass) {
  EXPECT_EQ(parse_color_by("region"), ColorBy::kRegion);
  EXPECT_EQ(parse_color_by("output"), ColorBy::kOutput);
  EXPECT_EQ(parse_color_by("class"), ColorBy::kClass);
  EXPECT_THAT([] { parse_color_by("rainbow"); }, ThrowsMessage<InputError>("expected region, output or class, got \"rainbow\""));
}

// ---------------------------------------------------------------------------------------------- architecture

TEST(ParseArchitecture, ReadsTheInputDimensionThenTheWidths) {
  const Architecture a = parse_architecture("2,16,16,16");
  EXPECT_EQ(a.input_dim, 2);
  EXPECT_EQ(a.widths, (std::vector<int>{16, 16, 16}));
  EXPECT_THAT([] { parse_architecture("2"); }, ThrowsMessage<InputError>(HasSubstr("at least one hidden")));
  EXPECT_THAT([] { parse_architecture("2,x"); }, ThrowsMessage<InputError>(StartsWith("\"2,x\": entry 1")));
  EXPECT_THAT([] { parse_architecture("2,0"); }, ThrowsMessage<InputError>(HasSubstr("entry 1")));
}

}  // namespace
