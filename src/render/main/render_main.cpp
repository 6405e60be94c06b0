// bridgehead-render: the fax render helper. The gateway runs it in a
// sandbox (util/sandbox.hpp) for every document it cannot trust:
//
//   bridgehead-render mail-to-fax --output out.tif [--paper a4|letter]
//       [--resolution fine|normal] [--compression g3|g4] [--max-pages N]
//       [--cover-template FILE] [--cover-sender S] [--cover-recipient R]
//       [--cover-subject S] [--cover-date D] [--font DESC] [--no-body]
//       [--thumbnail thumb.png [--thumbnail-width PX]] [--max-input-bytes N]  < mail
//   bridgehead-render fax-to-pdf --output out.pdf [--input in.tif|-]
//       [--max-pages N] [--max-pixels N] [--max-input-bytes N]  (default input: stdin)
//
// It reports on stdout, one key=value per line (render/helper_report.hpp):
// result=ok with pages=, document_pages= / width_mm=, height_mm=, tsi=; or
// result=failed with status= and text= (the document cannot become a fax:
// exit 1); or result=error with text= (usage or a system error: exit 2,
// transient=yes when it is worth trying again, like a full disk). It needs
// no file but its input and output: no configuration, no keys.
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "render/fax_pdf.hpp"
#include "render/helper_report.hpp"
#include "render/mail_render.hpp"
#include "render/thumbnail.hpp"
#include "render/tiff_write.hpp"

namespace {

using bh::render::report_line;

constexpr int kExitOk = 0;
constexpr int kExitDocumentFailed = 1;
constexpr int kExitUsage = 2;
constexpr unsigned long long kDefaultMaxInputBytes = 64ull << 20;

struct Arguments {
  std::string mode;
  std::map<std::string, std::string> options;  // "--paper" -> "a4"
  std::vector<std::string> flags;              // "--no-body"
};

void emit(std::string_view key, std::string_view value) {
  std::fputs(report_line(key, value).c_str(), stdout);
}

int usage_error(const std::string& text) {
  emit("result", "error");
  emit("text", text);
  std::fflush(stdout);
  return kExitUsage;
}

int system_failure(const std::string& text, bool transient) {
  emit("result", "error");
  emit("text", text);
  if (transient) emit("transient", "yes");
  std::fflush(stdout);
  return kExitUsage;
}

int document_failure(const std::string& status, const std::string& text) {
  emit("result", "failed");
  emit("status", status);
  emit("text", text);
  std::fflush(stdout);
  return kExitDocumentFailed;
}

bool is_flag(const std::string& name) {
  return name == "--no-body";
}

bool parse_arguments(int argc, char** argv, Arguments& out, std::string& error) {
  if (argc < 2) {
    error = "usage: bridgehead-render mail-to-fax|fax-to-pdf --output FILE [options]";
    return false;
  }
  out.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string name = argv[i];
    if (name.rfind("--", 0) != 0) {
      error = "unexpected argument " + name;
      return false;
    }
    if (is_flag(name)) {
      out.flags.push_back(name);
      continue;
    }
    if (i + 1 >= argc) {
      error = name + " needs a value";
      return false;
    }
    out.options[name] = argv[++i];
  }
  return true;
}

std::string option(const Arguments& args, const std::string& name, const std::string& fallback) {
  auto it = args.options.find(name);
  return it == args.options.end() ? fallback : it->second;
}

bool number_option(const Arguments& args, const std::string& name, long long fallback,
                   long long& out, std::string& error) {
  auto it = args.options.find(name);
  if (it == args.options.end()) {
    out = fallback;
    return true;
  }
  char* end = nullptr;
  errno = 0;
  out = std::strtoll(it->second.c_str(), &end, 10);
  if (errno != 0 || end == it->second.c_str() || *end != '\0' || out <= 0) {
    error = name + " must be a positive number";
    return false;
  }
  return true;
}

enum class ReadOutcome { ok, too_big, failed };

// Reads all of `in` up to `max` bytes (one more byte means too big).
ReadOutcome read_bounded(std::FILE* in, unsigned long long max, std::string& out) {
  char buffer[65536];
  while (true) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, in);
    if (n > 0) {
      if (out.size() + n > max) return ReadOutcome::too_big;
      out.append(buffer, n);
    }
    if (n < sizeof buffer) return std::ferror(in) ? ReadOutcome::failed : ReadOutcome::ok;
  }
}

std::string readable_size(unsigned long long bytes) {
  if (bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

// Writes page one's thumbnail to `path`; on failure removes what it wrote
// and says why. Its cost within the helper's limits: a grey copy of page
// one (4 bytes a pel: about 16 MB for a fine A4 page) while it is scaled,
// and some milliseconds (README.md of connectors/fax).
std::string draw_thumbnail(const Arguments& args, const bh::render::Bitmap& page, double y_dpi,
                           const std::string& path) {
  std::string failure;
  long long width = 0;
  if (!number_option(args, "--thumbnail-width", bh::render::ThumbnailSize{}.width_px, width,
                     failure)) {
    return failure;
  }
  // The width is checked by write_thumbnail (render/thumbnail.hpp's range).
  bh::render::ThumbnailSize size;
  size.width_px = static_cast<int>(std::min<long long>(width, 1 << 20));
  try {
    auto made = bh::render::write_thumbnail(page, bh::render::PageFormat::kXDpi, y_dpi, path, size);
    if (!made) failure = made.error().message;
  } catch (const std::bad_alloc&) {
    failure = "drawing it needs more memory than allowed";
  }
  if (!failure.empty()) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
  return failure;
}

int mail_to_fax(const Arguments& args) {
  std::string error;
  const std::string output = option(args, "--output", "");
  if (output.empty()) return usage_error("mail-to-fax needs --output");
  bh::render::MailRenderOptions options;
  const auto paper = bh::render::paper_from(option(args, "--paper", "a4"));
  const auto resolution = bh::render::resolution_from(option(args, "--resolution", "fine"));
  const auto compression = bh::render::compression_from(option(args, "--compression", "g4"));
  if (!paper || !resolution || !compression) {
    return usage_error("--paper a4|letter, --resolution fine|normal, --compression g3|g4");
  }
  options.format = {*paper, *resolution, *compression};
  long long max_pages = 0;
  long long max_input = 0;
  if (!number_option(args, "--max-pages", options.max_pages, max_pages, error) ||
      !number_option(args, "--max-input-bytes", kDefaultMaxInputBytes, max_input, error)) {
    return usage_error(error);
  }
  options.max_pages = static_cast<int>(std::min<long long>(max_pages, 10000));
  if (const std::string path = option(args, "--cover-template", ""); !path.empty()) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) return system_failure("cannot open the cover template " + path, false);
    const ReadOutcome read = read_bounded(file, 1 << 20, options.cover_template);
    std::fclose(file);
    if (read != ReadOutcome::ok) return system_failure("cannot read the cover template", false);
  }
  options.cover.sender = option(args, "--cover-sender", "");
  options.cover.recipient = option(args, "--cover-recipient", "");
  options.cover.subject = option(args, "--cover-subject", "");
  options.cover.date = option(args, "--cover-date", "");
  options.font = option(args, "--font", options.font);
  for (const auto& flag : args.flags) {
    if (flag == "--no-body") options.include_body = false;
  }

  std::string message;
  switch (read_bounded(stdin, static_cast<unsigned long long>(max_input), message)) {
    case ReadOutcome::ok:
      break;
    case ReadOutcome::too_big:
      return document_failure(
          "5.3.4", "the mail is larger than the render limit of " + readable_size(max_input));
    case ReadOutcome::failed:
      return system_failure("cannot read the mail on stdin", false);
  }

  auto rendered = bh::render::render_mail(message, options);
  if (auto* failure = std::get_if<bh::render::RenderFailure>(&rendered)) {
    return document_failure(failure->status, failure->text);
  }
  auto& mail = std::get<bh::render::RenderedMail>(rendered);
  if (mail.pages.empty()) return document_failure("5.6.1", "the mail has nothing to fax");
  message.clear();
  message.shrink_to_fit();

  if (auto written = bh::render::write_fax_tiff(mail.pages, options.format, output); !written) {
    std::error_code ignored;
    std::filesystem::remove(output, ignored);
    const bool full = bh::is_disk_full(written.error());
    if (written.error().code == std::errc::file_too_large) {
      return document_failure("5.3.4", "the fax is larger than the file size limit");
    }
    return system_failure(written.error().message, full);
  }
  // Page one's picture is for the success report only: whatever keeps it
  // from being drawn is reported (thumbnail=failed) and the fax goes all
  // the same.
  std::string thumbnail_failure;
  if (const std::string thumb = option(args, "--thumbnail", ""); !thumb.empty()) {
    thumbnail_failure = draw_thumbnail(args, mail.pages.front(), options.format.y_dpi(), thumb);
  }
  emit("result", "ok");
  emit("pages", std::to_string(mail.pages.size()));
  emit("document_pages", std::to_string(mail.document_pages));
  if (!thumbnail_failure.empty()) {
    emit("thumbnail", "failed");
    emit("thumbnail_text", thumbnail_failure);
  }
  for (std::size_t i = 0; i < mail.parts.size(); ++i) {
    emit("part" + std::to_string(i + 1), mail.parts[i]);
  }
  std::fflush(stdout);
  return kExitOk;
}

std::string millimetres(double mm) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", mm);
  return text;
}

int fax_to_pdf(const Arguments& args) {
  std::string error;
  const std::string output = option(args, "--output", "");
  if (output.empty()) return usage_error("fax-to-pdf needs --output");
  bh::render::FaxPdfLimits limits;
  long long max_pages = 0;
  long long max_pixels = 0;
  long long max_input = 0;
  if (!number_option(args, "--max-pages", limits.max_pages, max_pages, error) ||
      !number_option(args, "--max-pixels", limits.max_pixels, max_pixels, error) ||
      !number_option(args, "--max-input-bytes", kDefaultMaxInputBytes, max_input, error)) {
    return usage_error(error);
  }
  limits.max_pages = static_cast<int>(std::min<long long>(max_pages, 100000));
  limits.max_pixels = max_pixels;

  const std::string input = option(args, "--input", "-");
  std::FILE* in = input == "-" ? stdin : std::fopen(input.c_str(), "rb");
  if (in == nullptr) return system_failure("cannot open " + input, false);
  std::string tiff;
  const ReadOutcome read = read_bounded(in, static_cast<unsigned long long>(max_input), tiff);
  if (in != stdin) std::fclose(in);
  if (read == ReadOutcome::too_big) {
    return document_failure("5.3.4",
                            "the fax is larger than the limit of " + readable_size(max_input));
  }
  if (read == ReadOutcome::failed) return system_failure("cannot read " + input, false);

  auto summary = bh::render::fax_tiff_to_pdf(tiff, output, limits);
  if (!summary) {
    std::error_code ignored;
    std::filesystem::remove(output, ignored);
    if (summary.error().code) {  // writing failed (fax_pdf.hpp), not reading
      return system_failure(summary.error().message, /*transient=*/true);
    }
    return document_failure("5.6.1", "the fax cannot be read: " + summary.error().message);
  }
  emit("result", "ok");
  emit("pages", std::to_string(summary->pages));
  emit("width_mm", millimetres(summary->width_mm));
  emit("height_mm", millimetres(summary->height_mm));
  emit("tsi", summary->tsi);
  std::fflush(stdout);
  return kExitOk;
}

int run(int argc, char** argv) {
  Arguments args;
  std::string error;
  if (!parse_arguments(argc, argv, args, error)) return usage_error(error);
  if (args.mode == "mail-to-fax") return mail_to_fax(args);
  if (args.mode == "fax-to-pdf") return fax_to_pdf(args);
  return usage_error("unknown mode " + args.mode + " (mail-to-fax or fax-to-pdf)");
}

}  // namespace

int main(int argc, char** argv) {
  // A write past RLIMIT_FSIZE fails with EFBIG instead of killing the helper.
  ::signal(SIGXFSZ, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    // The sandbox's address space limit: the document needs more memory
    // than a render may use.
    return document_failure("5.3.4", "rendering the document needs more memory than allowed");
  } catch (const std::exception& e) {
    return system_failure(std::string("unexpected error: ") + e.what(), false);
  }
}
