#include "render/tiff_messages.hpp"

#include <cstdarg>
#include <cstdio>

namespace bh::render {
namespace {

constexpr std::size_t kMaxCollected = 2000;  // a corrupt file can produce thousands of messages

void append(std::string& to, const char* module, const char* format, va_list args) {
  if (to.size() >= kMaxCollected) return;
  char text[512];
  std::vsnprintf(text, sizeof text, format, args);
  if (!to.empty()) to += "; ";
  if (module != nullptr && *module != '\0') {
    to += module;
    to += ": ";
  }
  to += text;
  if (to.size() > kMaxCollected) to.resize(kMaxCollected);
}

// Returning 1 tells libtiff the message is handled: the global handler
// (which prints to stderr) is not called.
int on_error(TIFF*, void* user, const char* module, const char* format, va_list args) {
  append(static_cast<TiffMessages*>(user)->errors, module, format, args);
  return 1;
}

int on_warning(TIFF*, void* user, const char* module, const char* format, va_list args) {
  append(static_cast<TiffMessages*>(user)->warnings, module, format, args);
  return 1;
}

}  // namespace

TIFFOpenOptions* tiff_options_collecting(TiffMessages& messages, tmsize_t max_single_alloc) {
  TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
  if (options == nullptr) return nullptr;
  TIFFOpenOptionsSetErrorHandlerExtR(options, on_error, &messages);
  TIFFOpenOptionsSetWarningHandlerExtR(options, on_warning, &messages);
  if (max_single_alloc > 0) TIFFOpenOptionsSetMaxSingleMemAlloc(options, max_single_alloc);
  return options;
}

std::string tiff_error_text(const std::string& what, const TiffMessages& messages) {
  if (messages.errors.empty()) return what;
  return what + ": " + messages.errors;
}

}  // namespace bh::render
