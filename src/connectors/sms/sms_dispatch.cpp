#include "connectors/sms/sms_dispatch.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "connectors/sms/delivery_receipt.hpp"
#include "connectors/sms/sms_outbound.hpp"
#include "util/log.hpp"

namespace bh::connectors::sms {

using Clock = std::chrono::steady_clock;

struct SmsDispatch::Timer {
  explicit Timer(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  // Requests not answered yet, whether their parts wait, fly or are being
  // recorded: abandon() answers them all.
  std::set<std::shared_ptr<SmsRequest>> live;
  bool pumping = false;
  bool again = false;
};

namespace {

std::string smsc_of(const SmsSettings& settings) {
  return settings.binds.empty() ? std::string() : settings.binds.front().host;
}

RecipientResult deferred(std::string status, std::string diagnostic, const SmsSettings& settings) {
  RecipientResult result = deferred_result(std::move(status), std::move(diagnostic));
  result.remote_mta = smsc_of(settings);
  return result;
}

// An SMSC's message id as it may appear in a DSN's diagnostic: printable
// ASCII (the codec bounds its length to 64).
std::string printable(const std::string& id) {
  std::string out;
  for (char c : id) out += (c >= 0x21 && c <= 0x7e) ? c : '?';
  return out;
}

// The diagnostic of a recipient delivered at submit_sm_resp: receipts were
// not requested, or the SMSC gave no message id for some part (then no
// receipt could complete the reference, whatever the other parts report).
std::string accepted_without_receipt(int parts, bool before, const std::string& ids,
                                     const std::vector<int>& without_id, bool requested) {
  std::string accepted =
      before        ? fmt::format("all {} part(s) were submitted to the SMSC before", parts)
      : ids.empty() ? std::string("SMSC accepted the SMS without a message id")
                    : fmt::format("SMSC accepted the SMS (message id {})", ids);
  if (!requested) return accepted + "; no delivery receipt was requested";
  std::string which;
  for (int part : without_id) which += (which.empty() ? "" : ", ") + std::to_string(part);
  if (ids.empty()) return accepted + "; no delivery receipt can be matched";
  return fmt::format("{}; it gave no message id for part {}, so no delivery receipt can be matched",
                     accepted, which);
}

}  // namespace

std::string noid_part_id(const std::string& tag, int part) {
  return fmt::format("noid:{}:{}", tag, part);
}

bool is_noid_part_id(const std::string& message_id) {
  return message_id.starts_with("noid:");
}

void log_sms_delivery(const SmsSettings& settings, const std::string& queue_id,
                      const std::string& number, const RecipientResult& result) {
  log::Line line("sms_delivery");
  line.kv("connector", settings.name)
      .kv("id", queue_id)
      .kv("number", number)
      .kv("outcome", outcome_name(result.outcome))
      .kv("status", result.status);
  if (!result.reference.empty()) line.kv("reference", result.reference);
  line.kv("diagnostic", result.diagnostic);
  line.write(result.outcome == Outcome::deferred ? log::Level::warn : log::Level::info);
}

SmsDispatch::SmsDispatch(boost::asio::io_context& io, const SmsSettings& settings, Record record,
                         Forget forget, Release release)
    : io_(io),
      settings_(settings),
      record_(std::move(record)),
      forget_(std::move(forget)),
      release_(std::move(release)),
      timer_(std::make_unique<Timer>(io)) {}

SmsDispatch::~SmsDispatch() = default;

void SmsDispatch::set_binds(std::vector<SmppBind*> binds) {
  binds_ = std::move(binds);
}

void SmsDispatch::add(std::shared_ptr<SmsRequest> request) {
  std::size_t n = request->work.size();
  request->recorded.assign(n, 0);
  request->record_requested.assign(n, 0);
  request->bounced.assign(n, false);
  request->submitted.assign(n, 0);
  request->message_ids.assign(n, {});
  request->without_id.assign(n, {});
  timer_->live.insert(request);
  auto now = Clock::now();
  for (std::size_t w = 0; w < n; ++w) {
    RecipientWork& work = request->work[w];
    for (auto& [number, pdu] : work.to_send) queue_.push_back(Part{request, w, number, pdu, now});
  }
  // Recipients whose parts were all recorded by an earlier attempt.
  for (std::size_t w = 0; w < n; ++w) settle_if_complete(request, w);
  maybe_done(*request);
  pump();
}

void SmsDispatch::kick() {
  pump();
}

bool SmsDispatch::closed(const Part& part) const {
  const SmsRequest& request = *part.request;
  return request.answered || request.final[request.work[part.work].slot];
}

void SmsDispatch::pump() {
  // A bind's submit() may call back into the handler: no nested pumps.
  if (timer_->pumping) {
    timer_->again = true;
    return;
  }
  timer_->pumping = true;
  do {
    timer_->again = false;
    while (!queue_.empty() && !binds_.empty()) {
      if (closed(queue_.front())) {
        queue_.pop_front();
        continue;
      }
      SmppBind* bind = nullptr;
      for (std::size_t i = 0; i < binds_.size(); ++i) {
        SmppBind* candidate = binds_[(next_bind_ + i) % binds_.size()];
        if (!candidate->ready()) continue;
        bind = candidate;
        next_bind_ = (next_bind_ + i + 1) % binds_.size();
        break;
      }
      if (bind == nullptr) break;
      Part part = std::move(queue_.front());
      queue_.pop_front();
      std::uint64_t token = ++next_token_;
      std::uint32_t sequence = bind->submit(part.pdu, token);
      if (sequence == 0) {  // not ready after all: try again later
        queue_.push_front(std::move(part));
        break;
      }
      part.request->submitted[part.work]++;
      in_flight_.emplace(token, Flight{std::move(part), bind->name(), sequence});
    }
  } while (timer_->again);
  timer_->pumping = false;
  arm();
}

// Wakes the pump when a throttled bind may submit again or the oldest
// waiting part reaches submit_wait.
void SmsDispatch::arm() {
  if (queue_.empty()) {
    timer_->timer.cancel();
    return;
  }
  auto now = Clock::now();
  // The front is the oldest part (a throttled part goes back to the front
  // with its first queued_at): no walk over the whole queue on each pump.
  auto next = std::min(now + std::chrono::hours(24),
                       queue_.front().queued_at + settings_.timing.submit_wait);
  for (SmppBind* bind : binds_)
    if (bind->throttled_until() > now) next = std::min(next, bind->throttled_until());
  timer_->timer.expires_at(next);
  timer_->timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed or stopped
    expire();
    pump();
  });
}

void SmsDispatch::expire() {
  auto now = Clock::now();
  // The cause, for the diagnostic: no bind up, or every bind busy.
  bool any_bound =
      std::any_of(binds_.begin(), binds_.end(), [](const SmppBind* bind) { return bind->bound(); });
  std::string why =
      any_bound ? fmt::format("every SMPP bind to {} was busy (window full or throttled) for {} s",
                              smsc_of(settings_), settings_.timing.submit_wait.count())
                : fmt::format("no SMPP bind to {} was up to take the SMS within {} s",
                              smsc_of(settings_), settings_.timing.submit_wait.count());
  // From the front (the oldest) while parts are closed or past submit_wait.
  while (!queue_.empty()) {
    Part& part = queue_.front();
    if (!closed(part)) {
      if (now - part.queued_at < settings_.timing.submit_wait) break;
      finish(*part.request, part.work, deferred("4.4.1", why, settings_));
    }
    queue_.pop_front();
  }
}

void SmsDispatch::answered(SmppBind& bind, const smpp::SubmitAnswered& answer) {
  auto it = in_flight_.find(answer.token);
  bool late = it == in_flight_.end();
  if (late) {
    it = timed_out_.find(answer.token);
    if (it == timed_out_.end()) return;
  }
  Flight flight = std::move(it->second);
  (late ? timed_out_ : in_flight_).erase(it);
  std::shared_ptr<SmsRequest> request = flight.part.request;
  std::size_t w = flight.part.work;
  const RecipientWork& work = request->work[w];
  if (answer.status == smpp::status::ok) {
    std::string id = normalise_submit_id(answer.message_id, settings_.receipt_ids);
    log::Line("sms_submitted")
        .kv("connector", settings_.name)
        .kv("id", request->queue_id)
        .kv("number", work.number)
        .kv("part", flight.part.part)
        .kv("parts", work.parts)
        .kv("message_id", id)
        .kv("bind", flight.bind)
        .kv("sequence", flight.sequence)
        .kv("late", late)
        .write();
    if (request->bounced[w]) return pump();
    if (id.empty()) {
      // Accepted without an id: no receipt can match it, but a synthetic
      // row keeps a retry (the recipient deferred for another part) from
      // sending it again. Accepted whether or not the row was written.
      int part = flight.part.part;
      request->record_requested[w]++;
      record_(work.tag, part, work.parts, noid_part_id(work.tag, part),
              [this, request, w, part](bool, std::string) {
                request->without_id[w].push_back(part);
                settle_if_complete(request, w);
              });
      return pump();
    }
    // Recorded even when the recipient was deferred meanwhile: the retry
    // then skips this part instead of sending it twice.
    request->record_requested[w]++;
    record_(work.tag, flight.part.part, work.parts, id,
            [this, request, w, id](bool ok, std::string error) {
              if (!ok) {
                finish(
                    *request, w,
                    deferred("4.3.0", "the SMS was submitted but could not be recorded: " + error,
                             settings_));
                return;
              }
              request->recorded[w]++;
              request->message_ids[w].push_back(id);
              settle_if_complete(request, w);
            });
  } else if (is_throttling(answer.status) && late) {
    // Not taken, and its recipient was deferred at the timeout: the retry sends it.
    bind.throttled();
  } else if (is_throttling(answer.status)) {
    bind.throttled();
    log::Line("sms_throttled")
        .kv("connector", settings_.name)
        .kv("bind", flight.bind)
        .kv("status", smpp::status_name(answer.status))
        .write(log::Level::debug);
    request->submitted[w]--;
    queue_.push_front(std::move(flight.part));
  } else {
    log::Line("sms_submit_refused")
        .kv("connector", settings_.name)
        .kv("id", request->queue_id)
        .kv("number", work.number)
        .kv("part", flight.part.part)
        .kv("bind", flight.bind)
        .kv("status", smpp::status_name(answer.status))
        .write(log::Level::warn);
    finish(*request, w, submit_failure(answer.status, flight.part.part, work.parts, flight.bind));
  }
  pump();
}

void SmsDispatch::lost(SmppBind& bind, const smpp::SubmitLost& lost) {
  auto it = in_flight_.find(lost.token);
  if (it == in_flight_.end()) return;
  Flight flight = std::move(it->second);
  in_flight_.erase(it);
  std::shared_ptr<SmsRequest> request = flight.part.request;
  std::size_t w = flight.part.work;
  if (lost.timed_out) timed_out_.emplace(lost.token, flight);
  finish(
      *request, w,
      deferred("4.4.2", fmt::format("the SMSC's answer was lost ({}: {})", flight.bind, lost.text),
               settings_));
  pump();
}

void SmsDispatch::session_closed(SmppBind& bind) {
  std::erase_if(timed_out_, [&](const auto& entry) { return entry.second.bind == bind.name(); });
}

void SmsDispatch::abandon(const std::string& reason) {
  auto live = timer_->live;  // finish() erases from it
  for (const auto& request : live)
    for (std::size_t w = 0; w < request->work.size(); ++w)
      finish(*request, w, deferred("4.3.0", reason, settings_));
  queue_.clear();
  in_flight_.clear();
  timed_out_.clear();
  timer_->timer.cancel();
}

void SmsDispatch::finish(SmsRequest& request, std::size_t w, RecipientResult result) {
  const RecipientWork& work = request.work[w];
  if (request.answered || request.final[work.slot]) return;
  if (result.outcome == Outcome::bounced) {
    request.bounced[w] = true;
    // Posted after the records asked so far: the store thread writes them first.
    if (request.record_requested[w] > 0 || work.already_recorded > 0) forget_(work.tag);
  }
  log_sms_delivery(settings_, request.queue_id, work.number, result);
  request.results[work.slot] = std::move(result);
  request.final[work.slot] = true;
  maybe_done(request);
}

void SmsDispatch::settle_if_complete(const std::shared_ptr<SmsRequest>& request, std::size_t w) {
  const RecipientWork& work = request->work[w];
  if (request->answered || request->final[work.slot]) return;
  int accepted = request->recorded[w] + static_cast<int>(request->without_id[w].size());
  std::vector<int> without_id = work.recorded_without_id;  // before, and now
  without_id.insert(without_id.end(), request->without_id[w].begin(), request->without_id[w].end());
  std::sort(without_id.begin(), without_id.end());
  if (accepted < static_cast<int>(work.to_send.size())) return;
  std::string ids;
  for (const std::string& id : request->message_ids[w])
    ids += (ids.empty() ? "" : ", ") + printable(id);
  RecipientResult result;
  result.remote_mta = smsc_of(settings_);
  result.diagnostic_type = "x-smpp";
  result.status = "2.0.0";
  if (settings_.request_receipts && without_id.empty()) {
    // A receipt for every part settles the reference (sms_connector.hpp).
    result.outcome = Outcome::pending;
    result.reference = work.tag;
    result.diagnostic =
        work.to_send.empty()
            ? fmt::format("all {} part(s) were submitted to the SMSC before", work.parts)
            : fmt::format("submitted to the SMSC as {} part(s), message id {}", work.parts, ids);
    return finish(*request, w, std::move(result));
  }
  // No receipt can settle it: delivered to the SMSC, which does not report.
  result.outcome = Outcome::delivered;
  result.success_action = "relayed";
  result.diagnostic = accepted_without_receipt(work.parts, work.to_send.empty(), ids, without_id,
                                               settings_.request_receipts);
  if (request->record_requested[w] > 0 || work.already_recorded > 0) release_(work.tag);
  finish(*request, w, std::move(result));
}

void SmsDispatch::maybe_done(SmsRequest& request) {
  if (request.answered) return;
  for (bool f : request.final)
    if (!f) return;
  request.answered = true;
  for (auto it = timer_->live.begin(); it != timer_->live.end(); ++it)
    if (it->get() == &request) {
      // Keep the request alive until done() returns (the set held the last reference).
      std::shared_ptr<SmsRequest> keep = *it;
      timer_->live.erase(it);
      if (keep->done) keep->done(std::move(keep->results));
      return;
    }
  if (request.done) request.done(std::move(request.results));
}

}  // namespace bh::connectors::sms
