// Precompiled header for the I/O modules; pure modules never include Asio.
#pragma once
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
