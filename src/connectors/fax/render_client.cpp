#include "connectors/fax/render_client.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>

#include "connectors/fax/render_verdict.hpp"
#include "connectors/fax/render_workdir.hpp"
#include "connectors/fax/tiff_pages.hpp"
#include "render/thumbnail.hpp"
#include "util/log.hpp"
#include "util/sandbox.hpp"

namespace bh::connectors::fax {
namespace {

namespace fs = std::filesystem;

SandboxSpec spec_for(const RenderHelper& helper, const SandboxIdentity& identity,
                     const fs::path& work_dir, const fs::path& stdin_file,
                     std::vector<std::string> args) {
  SandboxSpec spec;
  spec.confinement = render_confinement(helper.limits);
  spec.identity = identity;
  spec.program = helper.program.empty() ? default_render_program() : helper.program;
  spec.args = std::move(args);
  spec.stdin_file = stdin_file;
  spec.work_dir = work_dir;
  spec.limits.wall = helper.limits.wall;
  spec.limits.cpu = helper.limits.cpu;
  spec.limits.address_space_bytes = helper.limits.memory_bytes;
  spec.limits.file_bytes = helper.limits.file_bytes;
  return spec;
}

void log_run(const char* what, const SandboxSpec& spec, const SandboxResult& run,
             const RunVerdict& verdict) {
  log::Line line("fax_render");
  line.kv("mode", what)
      .kv("exit", run.exit_code)
      .kv("signal", run.signal)
      .kv("timed_out", run.timed_out)
      .kv("cpu_ms", static_cast<long long>(run.cpu_used.count()))
      .kv("max_rss_kib", run.max_rss_kib)
      .kv("ok", verdict.ok);
  if (!verdict.ok) {
    line.kv("status", verdict.failure.status).kv("reason", verdict.failure.text);
    if (!run.stderr_tail.empty()) line.kv("stderr", run.stderr_tail);
  }
  line.write(verdict.ok ? log::Level::info : log::Level::warn);
}

// The helper could not be run at all: the gateway's problem, not the
// document's; try again later.
template <typename Outcome>
Outcome cannot_run(const char* what, const Error& error, bool logged = false);

// A refused sandbox (util/sandbox.hpp: no Landlock and no way around it)
// is logged as an error once, not at every message it defers.
std::atomic<bool> refusal_logged{false};

Result<SandboxIdentity> render_identity(const RenderLimits& limits) {
  const SandboxConfinement confinement = render_confinement(limits);
  if (filesystem_confinement(confinement) == FilesystemConfinement::refused) {
    const Error refused{std::string(confinement_refusal(::geteuid() == 0))};
    if (!refusal_logged.exchange(true))
      log::Line("fax_render_sandbox_refused")
          .kv("reason", refused.message)
          .write(log::Level::error);
    return refused;
  }
  return sandbox_identity(confinement);
}

bool refused(const RenderLimits& limits) {
  return filesystem_confinement(render_confinement(limits)) == FilesystemConfinement::refused;
}

void log_cannot_run(const char* what, const Error& error) {
  log::Line("fax_render_error")
      .kv("mode", what)
      .kv("error", error.message)
      .write(log::Level::error);
}

template <>
FaxRenderOutcome cannot_run(const char* what, const Error& error, bool logged) {
  if (!logged) log_cannot_run(what, error);
  FaxRenderOutcome outcome;
  outcome.transient = true;
  outcome.failure = {"4.3.0", "the render helper could not be run: " + error.message};
  return outcome;
}

template <>
FaxPdfOutcome cannot_run(const char* what, const Error& error, bool logged) {
  if (!logged) log_cannot_run(what, error);
  FaxPdfOutcome outcome;
  outcome.transient = true;
  outcome.reason = "the render helper could not be run: " + error.message;
  return outcome;
}

// The helper's page limit and page count are its word only: the gateway
// counts the pages of the TIFF it took over itself. More than allowed is
// the limit's bounce; a TIFF it cannot walk or a count that differs from
// the helper's report is a failed render.
void check_page_count(const fs::path& tiff, int max_pages, RunVerdict& verdict) {
  auto counted = count_fax_pages(tiff, max_pages);
  const int reported = report_number(verdict.report, "pages");
  if (!counted) {
    const bool too_many = counted.error().message.rfind("more than ", 0) == 0;
    verdict.ok = false;
    verdict.failure = {too_many ? "5.3.4" : "5.6.1",
                       too_many
                           ? "the fax would have " + counted.error().message +
                                 " (the limit, a cover page included)"
                           : "the render helper's TIFF is not a fax: " + counted.error().message};
  } else if (counted.value() != reported) {
    verdict.ok = false;
    verdict.failure = {"5.6.1", "the render helper reported " + std::to_string(reported) +
                                    " pages, its TIFF has " + std::to_string(counted.value())};
  }
}

// The helper's thumbnail, for the success report only: one it could not
// draw (thumbnail=failed, thumbnail_text=), or that cannot be taken over,
// is removed and named in outcome.thumbnail_failure; the fax goes without.
void take_thumbnail(const fs::path& written, const FaxRenderJob& job, const RunVerdict& verdict,
                    FaxRenderOutcome& outcome) {
  std::string failure;
  if (auto said = verdict.report.find("thumbnail");
      said != verdict.report.end() && said->second == "failed") {
    auto text = verdict.report.find("thumbnail_text");
    failure = "the render helper could not draw it: " +
              reported_text(text == verdict.report.end() ? "" : text->second);
  } else if (Status copied = copy_out(written, job.thumbnail, render::kMaxThumbnailBytes);
             !copied) {
    failure = "the render helper's thumbnail cannot be taken over: " + copied.error().message;
  } else {
    outcome.thumbnail = true;
    return;
  }
  std::error_code ignored;
  fs::remove(job.thumbnail, ignored);
  outcome.thumbnail_failure = std::move(failure);
}

Status check_program(const fs::path& program) {
  if (::access(program.c_str(), X_OK) != 0) {
    return system_error("render helper " + program.string(), errno);
  }
  return ok_status();
}

}  // namespace

SandboxConfinement render_confinement(const RenderLimits& limits) {
  SandboxConfinement confinement;
  confinement.user = limits.user;
  confinement.unconfined = limits.unconfined;
  confinement.uid_base = limits.uid_base;
  return confinement;
}

fs::path default_render_program() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "/usr/lib/bridgehead/bridgehead-render";
  return self.parent_path() / "bridgehead-render";
}

FaxRenderOutcome render_mail_to_fax(const RenderHelper& helper, const FaxRenderJob& job) {
  constexpr const char* kMode = "mail-to-fax";
  auto identity = render_identity(helper.limits);
  if (!identity)
    return cannot_run<FaxRenderOutcome>(kMode, identity.error(), refused(helper.limits));
  auto work = WorkDir::create(identity.value());
  if (!work) return cannot_run<FaxRenderOutcome>(kMode, work.error());
  const fs::path dir = work->path();
  const fs::path tiff = dir / "fax.tif";
  const fs::path thumbnail = dir / "thumbnail.png";

  const render::MailRenderOptions& options = job.options;
  std::vector<std::string> args = {
      "mail-to-fax",
      "--output",
      tiff.string(),
      "--paper",
      std::string(render::paper_name(options.format.paper)),
      "--resolution",
      std::string(render::resolution_name(options.format.resolution)),
      "--compression",
      std::string(render::compression_name(options.format.compression)),
      "--max-pages",
      std::to_string(options.max_pages),
      "--font",
      options.font,
      "--max-input-bytes",
      std::to_string(helper.limits.file_bytes),
  };
  if (!options.include_body) args.push_back("--no-body");
  if (!options.cover_template.empty()) {
    // The template is the gateway's (configuration), handed over as a file
    // in the work directory the helper may read.
    const fs::path cover = dir / "cover-template.txt";
    std::ofstream out(cover, std::ios::binary);
    out << options.cover_template;
    out.close();
    if (!out) return cannot_run<FaxRenderOutcome>(kMode, Error{"cannot write " + cover.string()});
    ::chmod(cover.c_str(), 0644);
    const std::pair<const char*, std::string> cover_args[] = {
        {"--cover-template", cover.string()},
        {"--cover-sender", options.cover.sender},
        {"--cover-recipient", options.cover.recipient},
        {"--cover-subject", options.cover.subject},
        {"--cover-date", options.cover.date}};
    for (const auto& [name, value] : cover_args) {
      args.push_back(name);
      args.push_back(value);
    }
  }
  if (!job.thumbnail.empty()) {
    args.push_back("--thumbnail");
    args.push_back(thumbnail.string());
    args.push_back("--thumbnail-width");
    args.push_back(std::to_string(job.thumbnail_width));
  }

  SandboxSpec spec = spec_for(helper, identity.value(), dir, job.message, std::move(args));
  if (Status found = check_program(spec.program); !found) {
    return cannot_run<FaxRenderOutcome>(kMode, found.error());
  }
  auto run = run_sandboxed(spec);
  if (!run) return cannot_run<FaxRenderOutcome>(kMode, run.error());
  RunVerdict verdict = judge(run.value(), helper.limits);

  FaxRenderOutcome outcome;
  if (verdict.ok) {
    Status copied = copy_out(tiff, job.output, helper.limits.file_bytes);
    if (copied && !job.thumbnail.empty()) take_thumbnail(thumbnail, job, verdict, outcome);
    if (!copied) {
      const bool full = is_disk_full(copied.error());
      verdict.ok = false;
      verdict.transient = full;
      verdict.failure = {
          full ? "4.3.1" : "5.6.1",
          "the render helper's output cannot be taken over: " + copied.error().message};
    } else {
      const int cover_pages = options.cover_template.empty() ? 0 : 1;
      check_page_count(job.output, options.max_pages + cover_pages, verdict);
    }
  }
  log_run(kMode, spec, run.value(), verdict);
  if (!verdict.ok) {
    std::error_code ignored;
    fs::remove(job.output, ignored);
    if (!job.thumbnail.empty()) fs::remove(job.thumbnail, ignored);
    outcome.thumbnail = false;
    outcome.thumbnail_failure.clear();
    outcome.transient = verdict.transient;
    outcome.failure = verdict.failure;
    return outcome;
  }
  outcome.ok = true;
  outcome.pages = report_number(verdict.report, "pages");
  outcome.document_pages = report_number(verdict.report, "document_pages");
  return outcome;
}

FaxPdfOutcome convert_fax_to_pdf(const RenderHelper& helper, const fs::path& tiff,
                                 const fs::path& pdf, int max_pages) {
  constexpr const char* kMode = "fax-to-pdf";
  auto identity = render_identity(helper.limits);
  if (!identity) return cannot_run<FaxPdfOutcome>(kMode, identity.error(), refused(helper.limits));
  auto work = WorkDir::create(identity.value());
  if (!work) return cannot_run<FaxPdfOutcome>(kMode, work.error());
  const fs::path output = work->path() / "fax.pdf";
  // The TIFF arrives on stdin: the helper's user need not be able to read the spool.
  SandboxSpec spec = spec_for(
      helper, identity.value(), work->path(), tiff,
      {"fax-to-pdf", "--input", "-", "--output", output.string(), "--max-pages",
       std::to_string(max_pages), "--max-input-bytes", std::to_string(helper.limits.file_bytes)});
  if (Status found = check_program(spec.program); !found) {
    return cannot_run<FaxPdfOutcome>(kMode, found.error());
  }
  auto run = run_sandboxed(spec);
  if (!run) return cannot_run<FaxPdfOutcome>(kMode, run.error());
  RunVerdict verdict = judge(run.value(), helper.limits);
  if (verdict.ok) {
    if (Status copied = copy_out(output, pdf, helper.limits.file_bytes); !copied) {
      verdict.ok = false;
      verdict.transient = is_disk_full(copied.error());
      verdict.failure = {
          "5.6.1", "the render helper's output cannot be taken over: " + copied.error().message};
    }
  }
  log_run(kMode, spec, run.value(), verdict);
  FaxPdfOutcome outcome;
  if (!verdict.ok) {
    outcome.transient = verdict.transient;
    outcome.reason = verdict.failure.text;
    return outcome;
  }
  outcome.ok = true;
  outcome.pages = report_number(verdict.report, "pages");
  outcome.page_width_mm = report_decimal(verdict.report, "width_mm");
  outcome.page_height_mm = report_decimal(verdict.report, "height_mm");
  auto tsi = verdict.report.find("tsi");
  if (tsi != verdict.report.end()) outcome.tsi = reported_text(tsi->second);
  return outcome;
}

}  // namespace bh::connectors::fax
