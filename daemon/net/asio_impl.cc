// Compiles Boost.Asio's implementation once for the whole daemon.
#include <utility>

#include <boost/asio/impl/src.hpp>
