// Input domains: validation and the compact description.
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
using testing::AllOf;
using testing::HasSubstr;
using testing::ThrowsMessage;

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
