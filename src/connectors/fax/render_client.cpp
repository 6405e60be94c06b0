#include "connectors/fax/render_client.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>

#include "render/helper_report.hpp"
#include "util/log.hpp"
#include "util/sandbox.hpp"

namespace bh::connectors::fax {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxReportedText = 500;  // of the helper's failure text, in a DSN

// A private directory for one run, in the temp directory (every user can
// reach it there, and the helper's user can write only this one).
class WorkDir {
 public:
  static Result<WorkDir> create(const SandboxIdentity& identity) {
    std::error_code ec;
    fs::path base = fs::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string pattern = (base / "bridgehead-render-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return system_error("mkdtemp " + pattern, errno);
    WorkDir dir(pattern);
    if (Status prepared = prepare_work_dir(dir.path_, identity); !prepared) {
      return prepared.error();
    }
    return dir;
  }
  WorkDir(WorkDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  WorkDir& operator=(WorkDir&&) = delete;
  ~WorkDir() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit WorkDir(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

// The helper's output is copied, not moved: the file belongs to the
// helper's user, and a subverted helper could have left a symlink or a
// hard link to a file of the gateway in its place. Only a regular file of
// at most max_bytes is copied, into a new file the gateway owns.
Status copy_out(const fs::path& from, const fs::path& to, std::uint64_t max_bytes) {
  const int in = ::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (in < 0) return system_error("open " + from.string(), errno);
  struct stat st {};
  if (::fstat(in, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
      static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    ::close(in);
    return Error{from.string() + " is not a plain file of the render helper"};
  }
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (out < 0) {
    const int err = errno;
    ::close(in);
    return system_error("create " + to.string(), err);
  }
  char buffer[65536];
  std::uint64_t copied = 0;
  Status status = ok_status();
  while (true) {
    const ssize_t n = ::read(in, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = system_error("read " + from.string(), errno);
      break;
    }
    if (n == 0) break;
    copied += static_cast<std::uint64_t>(n);
    if (copied > max_bytes) {
      status = Error{from.string() + " grew past its limit"};
      break;
    }
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out, buffer + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        status = system_error("write " + to.string(), errno);
        break;
      }
      done += w;
    }
    if (!status) break;
  }
  ::close(in);
  if (::close(out) != 0 && status) status = system_error("close " + to.string(), errno);
  if (!status) ::unlink(to.c_str());
  return status;
}

// The helper's words reach a DSN: printable, short.
std::string printable(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (text.size() > kMaxReportedText) {
    std::size_t cut = kMaxReportedText;
    // Not inside a UTF-8 sequence.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
    text.resize(cut);
    text += "...";
  }
  return text;
}

bool valid_permanent_status(const std::string& status) {
  // 5.x.y with one to three digits each; anything else from the helper is replaced.
  if (status.size() < 5 || status.size() > 9 || status.compare(0, 2, "5.") != 0) return false;
  int dots = 0;
  for (std::size_t i = 2; i < status.size(); ++i) {
    if (status[i] == '.') {
      if (++dots > 1 || status[i - 1] == '.') return false;
    } else if (status[i] < '0' || status[i] > '9') {
      return false;
    }
  }
  return dots == 1 && status.back() != '.';
}

std::string mib(std::uint64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

bool mentions_memory(const std::string& stderr_tail) {
  for (const char* hint : {"bad_alloc", "out of memory", "Out of memory", "failed to allocate",
                           "Cannot allocate memory", "memory exhausted"}) {
    if (stderr_tail.find(hint) != std::string::npos) return true;
  }
  return false;
}

// Code that does not check malloc's result (in the libraries the helper
// uses) dies of SIGSEGV when the address space limit is reached, without a
// word on stderr; a crash this close to the limit is taken for that.
bool near_memory_limit(const SandboxResult& run, const RenderLimits& limits) {
  if (limits.memory_bytes == 0) return false;
  const std::uint64_t peak = static_cast<std::uint64_t>(run.max_rss_kib) * 1024;
  return peak >= limits.memory_bytes / 4 * 3;
}

// Why a helper run did not produce a document, or nothing when it did.
// transient only when the helper could not do its work for reasons of
// this machine (a full disk) rather than of the document.
struct RunVerdict {
  bool ok = false;
  bool transient = false;
  render::RenderFailure failure;
  std::map<std::string, std::string> report;
};

RunVerdict judge(const SandboxResult& run, const RenderLimits& limits) {
  RunVerdict verdict;
  verdict.report = render::parse_report(run.stdout_text);
  auto field = [&](const char* key) {
    auto it = verdict.report.find(key);
    return it == verdict.report.end() ? std::string() : it->second;
  };
  const std::string limit_status = "5.3.4";
  if (run.timed_out) {
    verdict.failure = {limit_status, "the render helper exceeded its time limit of " +
                                         std::to_string(limits.wall.count()) + " s"};
  } else if (run.cpu_exceeded) {
    verdict.failure = {limit_status, "the render helper exceeded its CPU time limit of " +
                                         std::to_string(limits.cpu.count()) + " s"};
  } else if (run.signal != 0) {
    if (mentions_memory(run.stderr_tail) || near_memory_limit(run, limits)) {
      verdict.failure = {limit_status, "the render helper exceeded its memory limit of " +
                                           mib(limits.memory_bytes) + " (signal " +
                                           std::to_string(run.signal) + ")"};
    } else {
      verdict.failure = {"5.6.1", "the render helper crashed (signal " +
                                      std::to_string(run.signal) + ", " + ::strsignal(run.signal) +
                                      ")"};
    }
  } else if (run.exit_code == 0 && field("result") == "ok") {
    verdict.ok = true;
  } else if (run.exit_code == 1 && field("result") == "failed") {
    const std::string status = field("status");
    verdict.failure = {valid_permanent_status(status) ? status : "5.6.1", printable(field("text"))};
    if (verdict.failure.text.empty()) verdict.failure.text = "the document cannot be faxed";
  } else if (run.exit_code == 2 && field("transient") == "yes") {
    verdict.transient = true;
    verdict.failure = {"4.3.0", "the render helper failed: " + printable(field("text"))};
  } else if (mentions_memory(run.stderr_tail)) {
    verdict.failure = {
        limit_status, "the render helper exceeded its memory limit of " + mib(limits.memory_bytes)};
  } else {
    std::string text = printable(field("text"));
    verdict.failure = {"5.6.1", "the render helper failed (exit " + std::to_string(run.exit_code) +
                                    (text.empty() ? ")" : "): " + text)};
  }
  return verdict;
}

SandboxSpec spec_for(const RenderHelper& helper, const fs::path& work_dir,
                     const fs::path& stdin_file, std::vector<std::string> args) {
  SandboxSpec spec;
  spec.program = helper.program.empty() ? default_render_program() : helper.program;
  spec.args = std::move(args);
  spec.stdin_file = stdin_file;
  spec.work_dir = work_dir;
  spec.user = helper.limits.user;
  spec.limits.wall = helper.limits.wall;
  spec.limits.cpu = helper.limits.cpu;
  spec.limits.address_space_bytes = helper.limits.memory_bytes;
  spec.limits.file_bytes = helper.limits.file_bytes;
  return spec;
}

int number(const std::map<std::string, std::string>& report, const char* key) {
  auto it = report.find(key);
  if (it == report.end()) return 0;
  return std::atoi(it->second.c_str());
}

double decimal(const std::map<std::string, std::string>& report, const char* key) {
  auto it = report.find(key);
  if (it == report.end()) return 0;
  return std::strtod(it->second.c_str(), nullptr);
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
Outcome cannot_run(const char* what, const Error& error);

template <>
FaxRenderOutcome cannot_run(const char* what, const Error& error) {
  log::Line("fax_render_error")
      .kv("mode", what)
      .kv("error", error.message)
      .write(log::Level::error);
  FaxRenderOutcome outcome;
  outcome.transient = true;
  outcome.failure = {"4.3.0", "the render helper could not be run: " + error.message};
  return outcome;
}

template <>
FaxPdfOutcome cannot_run(const char* what, const Error& error) {
  log::Line("fax_render_error")
      .kv("mode", what)
      .kv("error", error.message)
      .write(log::Level::error);
  FaxPdfOutcome outcome;
  outcome.transient = true;
  outcome.reason = "the render helper could not be run: " + error.message;
  return outcome;
}

Status check_program(const fs::path& program) {
  if (::access(program.c_str(), X_OK) != 0) {
    return system_error("render helper " + program.string(), errno);
  }
  return ok_status();
}

}  // namespace

fs::path default_render_program() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "/usr/lib/bridgehead/bridgehead-render";
  return self.parent_path() / "bridgehead-render";
}

FaxRenderOutcome render_mail_to_fax(const RenderHelper& helper, const FaxRenderJob& job) {
  constexpr const char* kMode = "mail-to-fax";
  auto identity = sandbox_identity(helper.limits.user);
  if (!identity) return cannot_run<FaxRenderOutcome>(kMode, identity.error());
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
  }

  SandboxSpec spec = spec_for(helper, dir, job.message, std::move(args));
  if (Status found = check_program(spec.program); !found) {
    return cannot_run<FaxRenderOutcome>(kMode, found.error());
  }
  auto run = run_sandboxed(spec);
  if (!run) return cannot_run<FaxRenderOutcome>(kMode, run.error());
  RunVerdict verdict = judge(run.value(), helper.limits);

  FaxRenderOutcome outcome;
  if (verdict.ok) {
    Status copied = copy_out(tiff, job.output, helper.limits.file_bytes);
    if (copied && !job.thumbnail.empty()) {
      copied = copy_out(thumbnail, job.thumbnail, helper.limits.file_bytes);
    }
    if (!copied) {
      const bool full = is_disk_full(copied.error());
      verdict.ok = false;
      verdict.transient = full;
      verdict.failure = {
          full ? "4.3.1" : "5.6.1",
          "the render helper's output cannot be taken over: " + copied.error().message};
    }
  }
  log_run(kMode, spec, run.value(), verdict);
  if (!verdict.ok) {
    outcome.transient = verdict.transient;
    outcome.failure = verdict.failure;
    return outcome;
  }
  outcome.ok = true;
  outcome.pages = number(verdict.report, "pages");
  outcome.document_pages = number(verdict.report, "document_pages");
  return outcome;
}

FaxPdfOutcome convert_fax_to_pdf(const RenderHelper& helper, const fs::path& tiff,
                                 const fs::path& pdf, int max_pages) {
  constexpr const char* kMode = "fax-to-pdf";
  auto identity = sandbox_identity(helper.limits.user);
  if (!identity) return cannot_run<FaxPdfOutcome>(kMode, identity.error());
  auto work = WorkDir::create(identity.value());
  if (!work) return cannot_run<FaxPdfOutcome>(kMode, work.error());
  const fs::path output = work->path() / "fax.pdf";
  // The TIFF arrives on stdin: the helper's user need not be able to read the spool.
  SandboxSpec spec = spec_for(
      helper, work->path(), tiff,
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
  outcome.pages = number(verdict.report, "pages");
  outcome.page_width_mm = decimal(verdict.report, "width_mm");
  outcome.page_height_mm = decimal(verdict.report, "height_mm");
  auto tsi = verdict.report.find("tsi");
  if (tsi != verdict.report.end()) outcome.tsi = printable(tsi->second);
  return outcome;
}

}  // namespace bh::connectors::fax
