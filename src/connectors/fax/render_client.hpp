// The gateway's side of the render helper: documents from the mail (and
// faxes that arrive) are untrusted, so they are rendered by
// bridgehead-render in a child process that runs as an unprivileged user,
// without the gateway's open files, with CPU, memory, file size and wall
// time limits (util/sandbox.hpp). A helper that crashes, runs out of
// memory or time is a failed render, not a failed gateway. Blocking: call
// it from a connector's worker thread. The helper's filesystem is confined
// (Landlock) and the gateway counts the pages of the TIFF it wrote itself
// (tiff_pages.hpp) rather than trusting its report.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "render/mail_render.hpp"
#include "render/page_format.hpp"
#include "render/render_failure.hpp"
#include "util/sandbox.hpp"

namespace bh::connectors::fax {

struct RenderLimits {
  std::chrono::seconds cpu{60};
  std::chrono::seconds wall{120};
  std::uint64_t memory_bytes = 512ull << 20;  // address space
  std::uint64_t file_bytes = 256ull << 20;    // the largest file it may write
  std::string user = "nobody";                // switched to when the gateway runs as root
  // render_sandbox = "unconfined": no filesystem confinement (tests and
  // development only; util/sandbox.hpp).
  bool unconfined = false;
  // render_uid_base: root without Landlock runs each render under a uid of
  // its own from here (64 uids); 0: none.
  unsigned uid_base = 0;
};

struct RenderHelper {
  std::filesystem::path program;  // bridgehead-render; default: next to the gateway's binary
  RenderLimits limits;
};

// How the helper's sandbox is confined under these settings (util/sandbox.hpp).
SandboxConfinement render_confinement(const RenderLimits& limits);

// The helper next to the running gateway binary (/proc/self/exe).
std::filesystem::path default_render_program();

struct FaxRenderJob {
  std::filesystem::path message;  // the mail (header and body), read by the helper on stdin
  std::filesystem::path output;   // the TIFF-F to write (multi-page)
  render::MailRenderOptions options;
  std::filesystem::path thumbnail;  // PNG of page one; empty: none
  int thumbnail_width = 300;        // its width in pixels (render/thumbnail.hpp's range)
};

struct FaxRenderOutcome {
  bool ok = false;
  int pages = 0;           // in the TIFF, the cover included
  int document_pages = 0;  // without the cover
  // job.thumbnail was written. A thumbnail the helper could not draw
  // (it reports thumbnail=failed with result=ok) or the gateway cannot
  // take over (larger than render::kMaxThumbnailBytes, a failed copy) is
  // left out, why in thumbnail_failure (the caller logs it with the
  // connector and the message): the fax goes all the same.
  bool thumbnail = false;
  std::string thumbnail_failure;
  // When !ok. transient: the helper could not run (fork failed, disk
  // full): defer and try again. Otherwise the document failed (including a
  // crash, a timeout or the memory limit, each named in failure.text):
  // bounce with failure.status.
  bool transient = false;
  render::RenderFailure failure;
};

FaxRenderOutcome render_mail_to_fax(const RenderHelper& helper, const FaxRenderJob& job);

// A received fax (TIFF) becomes a PDF, page for page at its size.
struct FaxPdfOutcome {
  bool ok = false;
  int pages = 0;
  double page_width_mm = 0;  // of page one
  double page_height_mm = 0;
  std::string tsi;  // the sender's TSI from the TIFF, if it names one
  bool transient = false;
  std::string reason;  // when !ok
};

FaxPdfOutcome convert_fax_to_pdf(const RenderHelper& helper, const std::filesystem::path& tiff,
                                 const std::filesystem::path& pdf, int max_pages);

}  // namespace bh::connectors::fax
