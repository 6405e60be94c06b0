#include "connectors/fax/fax_ingest.hpp"

#include <fcntl.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include <chrono>
#include <ctime>
#include <optional>
#include <system_error>

#include <fmt/format.h>

#include "connectors/fax/fax_mail.hpp"
#include "connectors/fax/ingest_files.hpp"
#include "directory/directory.hpp"
#include "directory/phone_number.hpp"
#include "intake/ingest.hpp"
#include "intake/submit_wait.hpp"
#include "util/clock.hpp"
#include "util/files.hpp"
#include "util/log.hpp"

namespace bh::connectors::fax {
namespace fs = std::filesystem;
namespace {

IngestAnswer answer(IngestStatus status, std::string reason) {
  IngestAnswer a;
  a.status = status;
  a.reason = std::move(reason);
  return a;
}

// A private directory for one conversion, removed when it goes out of scope.
class TempDirectory {
 public:
  explicit TempDirectory(const fs::path& parent) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    std::string pattern = (parent / "fax-in-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDirectory() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

MailboxChoice choose_mailbox(const directory::DirectoryView& directory, const std::string& called,
                             const IngestSettings& settings, const std::string& expected_tenant) {
  MailboxChoice choice;
  auto refuse = [&choice](IngestStatus status, std::string reason) {
    choice.status = status;
    choice.mailbox.clear();
    choice.tenant.clear();
    choice.reason = std::move(reason);
    return choice;
  };
  auto owner = directory.find_number(called);
  if (owner.is_unavailable())
    return refuse(IngestStatus::unavailable, "the directory is unavailable: " + owner.reason);
  if (owner.is_found() && owner->service != "sms") {
    choice.mailbox = owner->mailbox;
    choice.tenant = owner->tenant;
  } else if (!expected_tenant.empty()) {
    // A tenant's fax goes to the tenant's own numbers, never the catch-all.
    return refuse(IngestStatus::refused, "the number " + called + " is not the tenant's");
  } else if (!settings.catch_all.empty()) {
    choice.mailbox = settings.catch_all;
    auto user = directory.find_user(settings.catch_all);
    if (user.is_unavailable())
      return refuse(IngestStatus::unavailable, "the directory is unavailable: " + user.reason);
    if (user.is_found()) choice.tenant = user->tenant;
  } else {
    return refuse(IngestStatus::unknown_number,
                  fmt::format("no mailbox owns {} and there is no catch-all", called));
  }
  if (!expected_tenant.empty() && choice.tenant != expected_tenant)
    return refuse(IngestStatus::refused, "the number " + called + " is not the tenant's");
  return choice;
}

std::string fax_message_id_left(std::string_view tiff, std::string_view called,
                                std::int64_t received_at) {
  std::string suffix = fmt::format("\n{}\n{}", called, received_at);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  bool ok = context != nullptr && EVP_DigestInit_ex(context, EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(context, tiff.data(), tiff.size()) == 1 &&
            EVP_DigestUpdate(context, suffix.data(), suffix.size()) == 1 &&
            EVP_DigestFinal_ex(context, digest, &length) == 1;
  EVP_MD_CTX_free(context);
  if (!ok) return {};
  std::string hex;
  for (unsigned int i = 0; i < length && hex.size() < 32; ++i)
    hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

const char* ingest_status_name(IngestStatus status) {
  switch (status) {
    case IngestStatus::queued:
      return "queued";
    case IngestStatus::unknown_number:
      return "unknown_number";
    case IngestStatus::invalid:
      return "invalid";
    case IngestStatus::unavailable:
      return "unavailable";
    case IngestStatus::refused:
      return "refused";
  }
  return "unknown";
}

FaxIngest::FaxIngest(const FaxSettings& settings, intake::Ingest& ingest,
                     const directory::DirectoryView& directory)
    : settings_(settings), ingest_(ingest), directory_(directory) {}

struct FaxIngest::Facts {
  std::string called;  // E.164 once normalised, else as given
  std::string caller;
  std::string tenant;
  int pages = 0;
  std::string log_reason;  // more than the answer's reason tells (a policy refusal's)
};

// One log line per fax, whatever became of it.
IngestAnswer FaxIngest::ingest(const ReceivedFax& fax) {
  Facts facts;
  facts.called = fax.called;
  IngestAnswer result = attempt(fax, facts);
  // The folder tries an unavailable fax again at every look and logs it
  // once itself (fax_ingest_deferred): its retries are debug lines here.
  log::Level level = result.status == IngestStatus::queued        ? log::Level::info
                     : result.status != IngestStatus::unavailable ? log::Level::error
                     : fax.source == "folder"                     ? log::Level::debug
                                                                  : log::Level::warn;
  log::Line("fax_received")
      .kv("connector", settings_.name)
      .kv("source", fax.source)
      .kv("file", fax.tiff.filename().string())
      .kv("id", result.queue_id.empty() ? "-" : result.queue_id)
      .kv("called", facts.called)
      .kv("caller", facts.caller.empty() ? "unknown" : facts.caller)
      .kv("pages", facts.pages)
      .kv("mailbox", result.mailbox.empty() ? "-" : result.mailbox)
      .kv("tenant", facts.tenant.empty() ? "-" : facts.tenant)
      .kv("result", ingest_status_name(result.status))
      .kv("reason", facts.log_reason.empty() ? result.reason : facts.log_reason)
      .write(level);
  return result;
}

IngestAnswer FaxIngest::attempt(const ReceivedFax& fax, Facts& facts) {
  if (stopping_) return answer(IngestStatus::unavailable, "the gateway is stopping");
  const IngestSettings& in = settings_.ingest;
  // Read through one descriptor, never through a link (ingest_files.hpp);
  // the helper converts a copy in the gateway's own directory.
  auto tiff = read_untrusted_file(AT_FDCWD, fax.tiff.string(), in.max_bytes);
  if (!tiff) {
    bool transient = tiff.error().code && tiff.error().code != std::errc::no_such_file_or_directory;
    return answer(transient ? IngestStatus::unavailable : IngestStatus::invalid,
                  "cannot read the fax: " + tiff.error().message);
  }

  auto called = directory::to_e164(fax.called, settings_.default_region);
  if (!called)
    return answer(IngestStatus::invalid,
                  "the called number is not valid: " + called.error().message);

  facts.called = *called;
  // One lookup chooses the mailbox and checks the expected tenant.
  MailboxChoice choice = choose_mailbox(directory_, *called, in, fax.expected_tenant);
  if (choice.status != IngestStatus::queued) return answer(choice.status, choice.reason);
  const std::string& mailbox = choice.mailbox;
  const std::string& tenant = choice.tenant;
  auto recipient = parse_path("<" + mailbox + ">", false, true);
  if (!recipient.address)
    return answer(IngestStatus::invalid, "the mailbox is not an address: " + mailbox);
  std::string sender_text = in.sender.empty() ? "postmaster@" + settings_.hostname : in.sender;
  auto sender = parse_path("<" + sender_text + ">", true, false);
  if (!sender.address)
    return answer(IngestStatus::invalid, "[ingest] sender is not an address: " + sender_text);

  // The TIFF is untrusted: the sandboxed helper makes the PDF.
  fs::path work = settings_.work_directory.empty() ? fs::temp_directory_path()
                                                   : settings_.work_directory / "ingest";
  TempDirectory temp(work);
  if (temp.path().empty())
    return answer(IngestStatus::unavailable, "cannot create a directory in " + work.string());
  UniqueFd temp_dir(::open(temp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Status copied = temp_dir.valid()
                      ? create_file_exclusively(temp_dir.get(), "fax.tif", tiff->bytes, 0600)
                      : Status(system_error("open " + temp.path().string(), errno));
  if (!copied)
    return answer(IngestStatus::unavailable, "cannot copy the fax: " + copied.error().message);
  fs::path pdf_path = temp.path() / "fax.pdf";
  RenderHelper helper = settings_.render;
  if (helper.program.empty()) helper.program = default_render_program();
  FaxPdfOutcome pdf = convert_fax_to_pdf(helper, temp.path() / "fax.tif", pdf_path, in.max_pages);
  if (!pdf.ok)
    return answer(pdf.transient ? IngestStatus::unavailable : IngestStatus::invalid,
                  "not a readable fax: " + pdf.reason);
  auto pdf_bytes = read_whole_file(pdf_path);
  if (!pdf_bytes)
    return answer(IngestStatus::unavailable, "cannot read the PDF: " + pdf_bytes.error().message);

  FaxMailFields fields;
  fields.mailbox = recipient.address->text();
  fields.called = *called;
  if (!fax.caller.empty())
    if (auto caller = directory::to_e164(fax.caller, settings_.default_region); caller)
      fields.caller = *caller;
  fields.caller_raw = fax.caller;
  fields.caller_name = fax.caller_name;
  fields.tsi = fax.tsi.empty() ? pdf.tsi : fax.tsi;
  fields.pages = pdf.pages;
  // A job without a time: the TIFF's, which stays the same when the fax is
  // tried again (and so does the Message-ID).
  fields.received_at = fax.received_at > 0     ? fax.received_at
                       : tiff->modified_at > 0 ? tiff->modified_at
                                               : unix_now();
  fields.reply_domain = !in.reply_domain.empty()     ? in.reply_domain
                        : !settings_.domains.empty() ? settings_.domains.front()
                                                     : settings_.hostname;
  fields.hostname = settings_.hostname;
  fields.unique = fax_message_id_left(tiff->bytes, *called, fields.received_at);
  if (fields.unique.empty()) return answer(IngestStatus::unavailable, "SHA-256 failed");
  fields.pdf = std::move(*pdf_bytes);
  if (in.attach_tiff) fields.tiff = std::move(tiff->bytes);

  facts.caller = fields.caller.empty() ? fax.caller : fields.caller;
  facts.tenant = tenant;
  facts.pages = fields.pages;

  intake::Submission submission;
  submission.origin.source = intake::Source::fax;
  submission.envelope.sender = *sender.address;
  submission.envelope.recipients.push_back(Recipient{*recipient.address, 0, ""});
  submission.envelope.tenant = tenant;
  submission.content = compose_fax_mail(fields);
  submission.trace_facts = {{"caller", facts.caller.empty() ? "unknown" : facts.caller},
                            {"called", fields.called},
                            {"mailbox", fields.mailbox},
                            {"pages", std::to_string(fields.pages)}};

  // Bounded: an answer that does not come (the gateway stops, the executor
  // is stuck) leaves the fax in the folder. Should the commit still write
  // the mail, the next try mails it again with the same Message-ID.
  auto answered = intake::submit_and_wait(ingest_, std::move(submission), kCommitWait, stopping_);
  if (!answered)
    return answer(IngestStatus::unavailable,
                  stopping_ ? "the gateway is stopping" : "the queue did not answer in time");
  intake::Submitted& submitted = *answered;

  IngestAnswer result;
  result.mailbox = fields.mailbox;
  if (submitted.accepted) {
    result.status = IngestStatus::queued;
    result.queue_id = submitted.queue_id;
    if (submitted.queue_id.empty()) result.reason = "discarded by a transport rule";
  } else {
    // 4xx: the queue could not take it now; 5xx: policy refused it.
    result.status =
        submitted.verdict.code < 500 ? IngestStatus::unavailable : IngestStatus::refused;
    result.reason = fmt::format("{} {} {}", submitted.verdict.code, submitted.verdict.enhanced,
                                submitted.verdict.reply);
  }
  if (!submitted.accepted) facts.log_reason = submitted.verdict.reason;
  return result;
}

}  // namespace bh::connectors::fax
