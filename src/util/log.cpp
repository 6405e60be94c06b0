#include "util/log.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "util/json_string.hpp"
#include "util/printable.hpp"

namespace bh::log {
namespace {

Format g_format = Format::text;

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::debug:
      return spdlog::level::debug;
    case Level::info:
      return spdlog::level::info;
    case Level::warn:
      return spdlog::level::warn;
    case Level::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

void append_json_string(std::string& out, std::string_view text) {
  bh::append_json_string(out, text, NotUtf8::hex_text);
}

// Text values stay bare when they are valid UTF-8 without spaces, quotes,
// '=', backslashes or controls; otherwise they are written as JSON strings.
void append_text_value(std::string& out, std::string_view text) {
  bool plain = !text.empty();
  for (std::size_t pos = 0; plain && pos < text.size();) {
    char32_t c = 0;
    std::size_t length = utf8_sequence(text, pos, &c);
    if (length == 0 || c <= ' ' || c == '"' || c == '\\' || c == '=' || is_unsafe_code_point(c))
      plain = false;
    pos += length == 0 ? 1 : length;
  }
  if (plain) {
    out.append(text);
    return;
  }
  append_json_string(out, text);
}

}  // namespace

void init(Format format, Level level) {
  g_format = format;
  auto logger = spdlog::stderr_logger_mt("bridgehead");
  logger->set_pattern(format == Format::json ? R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})"
                                             : "%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                      spdlog::pattern_time_type::utc);
  logger->set_level(to_spdlog(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

Line& Line::kv(std::string_view key, std::string_view value) {
  fields_.push_back({std::string(key), std::string(value), false});
  return *this;
}

Line& Line::kv(std::string_view key, bool value) {
  fields_.push_back({std::string(key), value ? "true" : "false", true});
  return *this;
}

Line& Line::kv(std::string_view key, long long value) {
  fields_.push_back({std::string(key), std::to_string(value), true});
  return *this;
}

Line& Line::kv(std::string_view key, unsigned long long value) {
  fields_.push_back({std::string(key), std::to_string(value), true});
  return *this;
}

std::string Line::render(Format format) const {
  std::string out;
  if (format == Format::json) {
    out = "\"event\":";
    append_json_string(out, event_);
    for (const Field& field : fields_) {
      out.push_back(',');
      append_json_string(out, field.key);
      out.push_back(':');
      if (field.number) {
        out += field.value;
      } else {
        append_json_string(out, field.value);
      }
    }
    return out;
  }
  out = event_;
  for (const Field& field : fields_) {
    out.push_back(' ');
    out += field.key;
    out.push_back('=');
    append_text_value(out, field.value);
  }
  return out;
}

void LogEscaped::operator()(std::exception_ptr escaped) const {
  if (!escaped) return;
  try {
    std::rethrow_exception(escaped);
  } catch (const std::exception& error) {
    Line("coroutine_error").kv("where", where).kv("reason", error.what()).write(Level::error);
  } catch (...) {
    Line("coroutine_error")
        .kv("where", where)
        .kv("reason", "unknown exception")
        .write(Level::error);
  }
}

void Line::write(Level level) const {
  spdlog::log(to_spdlog(level), "{}", render(g_format));
}

}  // namespace bh::log
