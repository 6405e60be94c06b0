#include "connectors/fax/fax_delivery.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "connectors/delivery_tag.hpp"
#include "connectors/fax/fax_address.hpp"
#include "connectors/fax/render_client.hpp"
#include "connectors/webhook/mime_decode.hpp"
#include "directory/phone_number.hpp"
#include "mail/header_block.hpp"
#include "util/clock.hpp"
#include "util/crash_point.hpp"
#include "util/files.hpp"
#include "util/log.hpp"

namespace bh::connectors::fax {
namespace fs = std::filesystem;

namespace {

// Thumbnails held for one put at most (each is at most
// render::kMaxThumbnailBytes).
constexpr std::size_t kThumbnailBatchBytes = 8u << 20;

RecipientResult bounce(std::string status, std::string diagnostic) {
  return {Outcome::bounced, std::move(status), std::move(diagnostic)};
}
RecipientResult defer(std::string status, std::string diagnostic) {
  return {Outcome::deferred, std::move(status), std::move(diagnostic)};
}

Status write_file(const fs::path& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return system_error("create " + path.string(), errno);
  std::size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error error = system_error("write " + path.string(), errno);
      ::close(fd);
      return error;
    }
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return ok_status();
}

std::string header_text(std::string_view content, std::string_view name) {
  HeaderBlock block(content);
  std::vector<const HeaderField*> fields = block.all(name);
  if (fields.empty()) return {};
  return webhook::decode_encoded_words(HeaderBlock::unfolded(fields.front()->value));
}

std::string cover_date(std::int64_t arrival) {
  return utc_format(arrival, "%Y-%m-%d %H:%M UTC");
}

// The files of one request in the work directory, removed when it is done.
class WorkFiles {
 public:
  WorkFiles(const fs::path& directory, const Envelope& envelope)
      : base_(directory / fmt::format("{}.{}", envelope.queue_id, envelope.generation)) {}
  ~WorkFiles() {
    std::error_code ignored;
    for (const fs::path& file : created_) fs::remove(file, ignored);
  }
  fs::path file(const std::string& suffix) {
    created_.push_back(base_.string() + suffix);
    return created_.back();
  }

 private:
  fs::path base_;
  std::vector<fs::path> created_;
};

class RequestDelivery {
 public:
  RequestDelivery(const DeliveryContext& context, const DeliveryRequest& request)
      : c_(context),
        request_(request),
        files_(context.settings.work_directory, request.envelope()) {}

  std::vector<RecipientResult> run() {
    const FaxSettings& s = c_.settings;
    std::string_view content = request_.content();
    if (content.size() > s.max_message_bytes)
      return same_for_all(
          request_, bounce("5.3.4", fmt::format("message too big for fax: {} bytes, the limit "
                                                "(max_message_size) is {}",
                                                content.size(), s.max_message_bytes)));
    std::vector<RecipientResult> results;
    for (std::size_t index : request_.recipients) results.push_back(recipient(index));
    keep_thumbnails();
    return results;
  }

 private:
  RecipientResult recipient(std::size_t index) {
    const FaxSettings& s = c_.settings;
    if (c_.stopping) return defer("4.3.0", "the gateway is stopping");
    const Envelope& envelope = request_.envelope();
    const Address& address = envelope.recipients[index].address;
    FaxAddressParse parsed = parse_fax_address(address, s.domains, s.default_region);
    if (parsed.kind == FaxAddressParse::Kind::not_ours)
      return bounce("5.1.2", fmt::format("{} is not in a fax domain of connector {}",
                                         address.text(), s.name));
    if (parsed.kind == FaxAddressParse::Kind::invalid)
      return bounce("5.1.3", "not a fax number: " + parsed.reason);
    const std::string& number = parsed.address.number;
    if (auto blocked = c_.destinations.blocked(number))
      return bounce("5.7.1", fmt::format("fax to {} is not permitted: {}", number, *blocked));

    // Without a cover page every recipient gets the same pages: render once.
    bool per_recipient = !c_.cover.empty();
    FaxRenderOutcome rendered;
    fs::path tiff, png;
    if (per_recipient) {
      tiff = files_.file(fmt::format(".{}.tif", index));
      if (thumbnail_wanted(index)) png = files_.file(fmt::format(".{}.png", index));
      rendered = render(tiff, png, number);
    } else {
      if (!shared_) {
        shared_tiff_ = files_.file(".tif");
        if (std::any_of(request_.recipients.begin(), request_.recipients.end(),
                        [&](std::size_t i) { return thumbnail_wanted(i); }))
          shared_png_ = files_.file(".png");
        shared_ = render(shared_tiff_, shared_png_, number);
      }
      rendered = *shared_;
      png = shared_png_;
      if (rendered.ok) {
        // The backend takes its copy (the spool backend moves the file).
        tiff = files_.file(fmt::format(".{}.tif", index));
        std::error_code error;
        fs::copy_file(shared_tiff_, tiff, fs::copy_options::overwrite_existing, error);
        if (error) {
          log::Line("fax_work_file_failed")
              .kv("connector", s.name)
              .kv("id", envelope.queue_id)
              .kv("reason", "copy " + tiff.string() + ": " + error.message())
              .write(log::Level::warn);
          return defer("4.3.0", "the fax could not be prepared now (work directory)");
        }
      }
    }
    if (!rendered.ok) {
      if (rendered.transient)
        return defer("4.3.0", "the fax could not be rendered now: " + rendered.failure.text);
      return bounce(rendered.failure.status.empty() ? "5.6.1" : rendered.failure.status,
                    "the mail could not be rendered as a fax: " + rendered.failure.text);
    }
    FaxSubmission submission{
        number,
        tiff,
        rendered.pages,
        s.format,
        delivery_tag(envelope.queue_id, envelope.recipients[index].address.text()),
        envelope.sender.text(),
        parsed.address.subaddress};
    std::variant<Submitted, SubmitFailure> submitted;
    {
      std::lock_guard lock(c_.backend_mutex);
      // Checked again under the lock: stop() may have come during the
      // render or while another worker submitted.
      if (c_.stopping) return defer("4.3.0", "the gateway is stopping");
      submitted = c_.backend.submit(submission);
    }
    // The job is at the fax server, its reference not yet durable: a crash
    // here is what the tag's lookup in submit() repairs.
    crash_point("fax.submitted");
    if (auto* failure = std::get_if<SubmitFailure>(&submitted)) {
      log::Line("fax_submit_failed")
          .kv("connector", s.name)
          .kv("id", envelope.queue_id)
          .kv("number", number)
          .kv("permanent", failure->permanent)
          .kv("reason", failure->text)
          .write(log::Level::warn);
      RecipientResult result = failure->permanent ? bounce(failure->status, failure->text)
                                                  : defer(failure->status, failure->text);
      result.remote_mta = c_.remote_mta;
      return result;
    }
    const std::string& reference = std::get<Submitted>(submitted).reference;
    log::Line("fax_submitted")
        .kv("connector", s.name)
        .kv("id", envelope.queue_id)
        .kv("number", number)
        .kv("pages", rendered.pages)
        .kv("reference", reference)
        .kv("server", c_.server)
        .write();
    if (rendered.thumbnail && thumbnail_wanted(index)) keep_thumbnail(png, reference, number);
    RecipientResult result{Outcome::pending, "2.0.0",
                           fmt::format("fax job {} queued at {}", reference, c_.place)};
    result.remote_mta = c_.remote_mta;
    result.reference = reference;
    return result;
  }

  // Page one's thumbnail, for a report someone will get.
  bool thumbnail_wanted(std::size_t index) const {
    const FaxSettings& s = c_.settings;
    const Envelope& envelope = request_.envelope();
    return c_.thumbnails != nullptr && s.thumbnail.enabled &&
           s.success_notice == SuccessNotice::report && !envelope.sender.null() &&
           !(envelope.recipients[index].notify & notify_never);
  }

  // Page one's thumbnail of a submitted job, for the shared store: all of
  // the request's go in one transaction once every recipient is submitted
  // (keep_thumbnails), or sooner when they add up to kThumbnailBatchBytes.
  void keep_thumbnail(const fs::path& png, const std::string& reference,
                      const std::string& number) {
    auto bytes = read_whole_file(png);
    if (!bytes) return log_thumbnail_failed(bytes.error().message, reference);
    batch_bytes_ += bytes->size();
    batch_.push_back({reference, number, std::move(*bytes)});
    if (batch_bytes_ >= kThumbnailBatchBytes) keep_thumbnails();
  }

  // Into the shared store until the report is written. A failure is
  // logged: the reports then go without them. A store that failed is not
  // asked for a while (ThumbnailStore's pause), so this adds at most one
  // statement timeout to a request's submission, and then none.
  void keep_thumbnails() {
    if (batch_.empty()) return;
    Status kept = c_.thumbnails->put(c_.settings.name, batch_, unix_now());
    for (const KeptThumbnail& t : batch_) {
      if (!kept) {
        log_thumbnail_failed(kept.error().message, t.reference);
        continue;
      }
      log::Line("fax_thumbnail_kept")
          .kv("connector", c_.settings.name)
          .kv("id", request_.envelope().queue_id)
          .kv("reference", t.reference)
          .write();
    }
    batch_.clear();
    batch_bytes_ = 0;
  }

  // The one line for a thumbnail the report will not carry (the fax goes
  // all the same); reference empty: it failed in the render.
  void log_thumbnail_failed(const std::string& reason, const std::string& reference = {}) {
    log::Line line("fax_thumbnail_failed");
    line.kv("connector", c_.settings.name).kv("id", request_.envelope().queue_id);
    if (!reference.empty()) line.kv("reference", reference);
    line.kv("reason", reason).write(log::Level::warn);
  }

  FaxRenderOutcome render(const fs::path& tiff, const fs::path& png, const std::string& number) {
    const FaxSettings& s = c_.settings;
    const Envelope& envelope = request_.envelope();
    if (message_file_.empty()) {
      fs::path file = files_.file(".eml");
      if (auto written = write_file(file, request_.content()); !written) {
        log::Line("fax_work_file_failed")
            .kv("connector", s.name)
            .kv("id", envelope.queue_id)
            .kv("reason", written.error().message)
            .write(log::Level::warn);
        FaxRenderOutcome failed;
        failed.transient = true;
        failed.failure = {"4.3.0", "the work directory cannot take the mail"};
        return failed;
      }
      message_file_ = file;
    }
    FaxRenderJob job;
    job.message = message_file_;
    job.output = tiff;
    job.thumbnail = png;
    job.thumbnail_width = s.thumbnail.width_px;
    job.options.format = s.format;
    job.options.max_pages = s.max_pages;
    job.options.cover_template = c_.cover;
    if (!c_.cover.empty()) {
      std::string_view content = request_.content();
      job.options.cover = {header_text(content, "From"), directory::international_format(number),
                           header_text(content, "Subject"), cover_date(envelope.arrival)};
    }
    FaxRenderOutcome outcome = render_mail_to_fax(s.render, job);
    log::Line line(outcome.ok ? "fax_rendered" : "fax_render_failed");
    line.kv("connector", s.name).kv("id", envelope.queue_id);
    if (outcome.ok)
      line.kv("pages", outcome.pages).kv("document_pages", outcome.document_pages).write();
    else
      line.kv("transient", outcome.transient)
          .kv("status", outcome.failure.status)
          .kv("reason", outcome.failure.text)
          .write(log::Level::warn);
    if (outcome.ok && !outcome.thumbnail_failure.empty())
      log_thumbnail_failed(outcome.thumbnail_failure);
    return outcome;
  }

  const DeliveryContext& c_;
  const DeliveryRequest& request_;
  WorkFiles files_;
  fs::path message_file_;
  fs::path shared_tiff_;
  fs::path shared_png_;  // empty: no thumbnail wanted
  std::optional<FaxRenderOutcome> shared_;
  std::vector<KeptThumbnail> batch_;  // for the store, not yet put
  std::size_t batch_bytes_ = 0;
};

}  // namespace

std::vector<RecipientResult> deliver_fax(const DeliveryContext& context,
                                         const DeliveryRequest& request) {
  return RequestDelivery(context, request).run();
}

}  // namespace bh::connectors::fax
