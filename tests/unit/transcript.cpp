#include "transcript.hpp"

#include <sstream>

#include <fmt/format.h>

#include "smtp/server/session_machine.hpp"

namespace {

std::string unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out.push_back(text[i]);
      continue;
    }
    char c = text[++i];
    if (c == 'r')
      out.push_back('\r');
    else if (c == 'n')
      out.push_back('\n');
    else if (c == 't')
      out.push_back('\t');
    else if (c == 'x') {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else
      out.push_back(c);
  }
  return out;
}

std::string escape(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '\r')
      out += "\\r";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\\')
      out += "\\\\";
    else if (c < 32 || c >= 127)
      out += fmt::format("\\x{:02x}", c);
    else
      out.push_back(static_cast<char>(c));
  }
  return out;
}

void apply_option(bh::smtp::SessionSettings& s, const std::string& key, const std::string& value,
                  std::string& commit_failure) {
  auto number = [&] { return static_cast<std::size_t>(std::stoull(value)); };
  if (key == "recipients")
    s.limits.recipients = number();
  else if (key == "message_size")
    s.limits.message_size = number();
  else if (key == "command_line")
    s.limits.command_line = number();
  else if (key == "text_line")
    s.limits.text_line = number();
  else if (key == "header_bytes")
    s.limits.header_bytes = number();
  else if (key == "errors")
    s.limits.errors = number();
  else if (key == "idle_timeout")
    s.limits.idle_timeout_seconds = static_cast<unsigned>(number());
  else if (key == "session_timeout")
    s.limits.session_timeout_seconds = static_cast<unsigned>(number());
  else if (key == "min_data_rate")
    s.limits.min_data_rate = number();
  else if (key == "starttls")
    s.starttls_offered = value == "yes";
  else if (key == "require_tls")
    s.require_tls = value == "yes";
  else if (key == "postmaster")
    s.postmaster = bh::Address{value.substr(0, value.find('@')), value.substr(value.find('@') + 1)};
  else if (key == "local_part")
    s.limits.local_part = number();
  else if (key == "strip_nul")
    s.strip_nul = value == "yes";
  else if (key == "commit_failure" || key == "spill_failure")
    commit_failure = key + "=" + value;
  else if (key == "content_buffer")
    s.limits.content_buffer = number();
  else
    throw std::runtime_error("unknown option " + key);
}

}  // namespace

std::pair<std::string, std::string> split_comments(const std::string& text) {
  std::istringstream lines(text);
  std::string line, comments, body;
  while (std::getline(lines, line)) {
    if (line.starts_with("#"))
      comments += line + "\n";
    else if (!line.empty())
      body += line + "\n";
  }
  return {comments, body};
}

std::string replay_transcript(const std::string& golden) {
  // Routes only: no inbound connectors, no tenants, no rules, no stamp key.
  bh::intake::Pipeline pipeline(std::make_shared<const bh::PolicySet>(
      std::vector<bh::Route>{bh::Route{{"example.test", "*.example.org"}, "local"}},
      bh::TrustConfig{}, nullptr));
  bh::smtp::SessionSettings settings;
  settings.intake = &pipeline;
  int next_id = 0;
  settings.make_queue_id = [&next_id] { return fmt::format("QID{}", ++next_id); };
  settings.now = [] { return std::int64_t{1795000000}; };
  // The fake monotonic clock: starts at 0, moved only by T: lines.
  std::int64_t clock_ms = 0;
  settings.now_ms = [&clock_ms] { return clock_ms; };
  std::string commit_failure;
  std::string on_disk;  // the body bytes the machine spilled, as the driver would write them
  std::string rebuilt;

  std::istringstream lines(golden);
  std::string line;
  std::vector<std::string> client_chunks;  // "C: ..." and "T: ..." lines, in order
  while (std::getline(lines, line)) {
    if (line.starts_with("O: ")) {
      std::size_t eq = line.find('=');
      apply_option(settings, line.substr(3, eq - 3), line.substr(eq + 1), commit_failure);
      rebuilt += line + "\n";
    } else if (line.starts_with("C: ") || line.starts_with("T: ")) {
      client_chunks.push_back(line);
    }
  }

  bh::smtp::SessionMachine machine(settings, bh::ClientInfo{"192.0.2.1", 4000});
  machine.greet();
  auto drain = [&] {
    while (true) {
      auto event = machine.step();
      std::string_view out = machine.output();
      while (!out.empty()) {
        std::size_t end = out.find("\r\n");
        rebuilt += "S: " + std::string(out.substr(0, end)) + "\n";
        out.remove_prefix(end == std::string_view::npos ? out.size() : end + 2);
      }
      machine.output().clear();
      if (machine.draft().envelope.queue_id.empty())
        on_disk.clear();  // the transaction ended: the driver removes the file
      switch (event) {
        case bh::smtp::SessionMachine::Event::spill:
          if (commit_failure.starts_with("spill_failure=")) {  // the disk write fails
            machine.spilled(bh::system_error(
                "append", commit_failure == "spill_failure=disk_full" ? ENOSPC : EIO));
          } else {
            on_disk += machine.spill_bytes();
            machine.spilled();
          }
          break;
        case bh::smtp::SessionMachine::Event::need_input:
          return;
        case bh::smtp::SessionMachine::Event::close:
          rebuilt += "E: close\n";
          return;
        case bh::smtp::SessionMachine::Event::start_tls:
          rebuilt += "E: starttls\n";
          machine.tls_started(
              {"TLSv1.3", "TLS_AES_256_GCM_SHA384", "CN=client", "AA:BB", true, "client", {}});
          break;
        case bh::smtp::SessionMachine::Event::commit: {
          auto& draft = machine.draft();
          // The message as the queue writer assembles it: header, body on disk, tail.
          std::string whole = draft.content.substr(0, draft.header_size) + on_disk +
                              draft.content.substr(draft.header_size);
          on_disk.clear();
          std::string_view body = whole;
          // Skip the Received header this hop added: up to the first line not
          // starting with a tab after "Received:".
          std::size_t pos = 0;
          do {
            pos = body.find("\r\n", pos) + 2;
          } while (pos < body.size() && body[pos] == '\t');
          std::string rcpts;
          for (const auto& r : draft.envelope.recipients)
            rcpts += " " + r.address.path() +
                     (r.notify != 0 ? fmt::format("[notify={}]", r.notify) : std::string());
          rebuilt +=
              fmt::format("E: commit {} from={} to={} body=\"{}\"\n", draft.envelope.queue_id,
                          draft.envelope.sender.path(), rcpts.substr(1), escape(body.substr(pos)));
          if (!commit_failure.starts_with("commit_failure="))
            machine.commit_finished(bh::ok_status());
          else
            machine.commit_finished(
                bh::system_error(commit_failure.substr(15),
                                 commit_failure == "commit_failure=disk_full" ? ENOSPC : EIO));
          break;
        }
      }
    }
  };
  // What the driver's timer does: when the machine's deadline has come,
  // timed_out() (the clock stops there; the driver would have woken then).
  bool timed_out = false;
  auto fire_if_due = [&](std::int64_t until) {
    auto deadline = machine.deadline_ms();
    if (timed_out || !deadline || *deadline > until) return false;
    clock_ms = std::max(clock_ms, *deadline);
    timed_out = true;
    machine.timed_out();
    rebuilt += fmt::format("E: timed out at {} ms: {}\n", clock_ms, machine.stats().end_reason);
    drain();
    return true;
  };
  drain();
  fire_if_due(clock_ms);
  for (const std::string& action : client_chunks) {
    rebuilt += action + "\n";
    if (action.starts_with("T: ")) {
      std::int64_t target = clock_ms + std::stoll(action.substr(4));  // "T: +N" milliseconds
      if (!fire_if_due(target)) clock_ms = target;
      continue;
    }
    std::string bytes = unescape(action.substr(3));
    auto space = machine.input_space(bytes.size());
    std::copy(bytes.begin(), bytes.end(), space.begin());
    machine.input_received(bytes.size());
    drain();
    fire_if_due(clock_ms);  // the driver checks before it reads again
  }
  return rebuilt;
}
