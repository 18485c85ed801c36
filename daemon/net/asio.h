#pragma once
// The one way tally includes Boost.Asio. Boost 1.74 with g++ 12 in C++20 mode
// needs <utility> before asio (std::exchange), and Asio is compiled once in
// asio_impl.cc (BOOST_ASIO_SEPARATE_COMPILATION) to save build time.

#include <utility>

#include <boost/asio.hpp>

namespace tally::net {
namespace asio = boost::asio;
}
