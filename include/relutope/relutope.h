#pragma once
/// Umbrella header for the relutope public API.
#include "relutope/bounds.h"
#include "relutope/domain.h"
#include "relutope/enumerate.h"
#include "relutope/error.h"
#include "relutope/halfspace.h"
#include "relutope/io.h"
#include "relutope/network.h"
#include "relutope/neurons.h"
#include "relutope/polytope.h"
#include "relutope/random_network.h"
#include "relutope/region.h"
