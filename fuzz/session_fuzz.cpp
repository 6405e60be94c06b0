// Fuzz target: arbitrary bytes, cut into arbitrary chunks, fed to the SMTP
// server session machine with trust checks on. Whatever arrives, the
// machine must not crash and must only ever say well-formed replies.
//
// Input: byte 0 = options, then repeated [chunk length byte][chunk bytes].
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "smtp/server/session_machine.hpp"

namespace {

class FakeDirectory : public bh::directory::DirectoryView {
 public:
  bh::directory::Lookup<bh::directory::User> find_user(std::string_view address) const override {
    if (address != "alice@contoso.test")
      return bh::directory::Lookup<bh::directory::User>::absent();
    bh::directory::User alice;
    alice.address = "alice@contoso.test";
    alice.tenant = "4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b";
    alice.permissions = {"fax"};
    return bh::directory::Lookup<bh::directory::User>::found(alice);
  }
  bh::directory::Lookup<bh::directory::NumberOwner> find_number(std::string_view) const override {
    return bh::directory::Lookup<bh::directory::NumberOwner>::absent();
  }
  bh::directory::Lookup<bh::directory::Tenant> tenant(std::string_view) const override {
    return bh::directory::Lookup<bh::directory::Tenant>::absent();
  }
};

bh::TrustConfig trust_config() {
  bh::TrustConfig c;
  bh::InboundConnector exo;
  exo.name = "exo";
  exo.kind = bh::ConnectorKind::microsoft365;
  exo.certificate_names = {"mail.protection.outlook.com"};
  exo.tenants = {"4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b"};
  exo.services = {"fax"};
  c.connectors.push_back(exo);
  c.tenants.push_back({"4a1c1a0e-2d3b-4f5e-8a9b-0c1d2e3f4a5b", "contoso", {"contoso.test"}, true});
  return c;
}

// Every byte the machine writes must belong to a reply line "DDD[ -]...CRLF".
void check_replies(std::string_view out) {
  while (!out.empty()) {
    std::size_t end = out.find("\r\n");
    if (end == std::string_view::npos || end < 3) std::abort();
    for (int i = 0; i < 3; ++i)
      if (out[i] < '0' || out[i] > '9') std::abort();
    if (out[0] < '2' || out[0] > '5') std::abort();
    if (end > 3 && out[3] != ' ' && out[3] != '-') std::abort();
    std::string_view line = out.substr(0, end);
    if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos)
      std::abort();
    out.remove_prefix(end + 2);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const FakeDirectory directory;
  static const bh::intake::Pipeline pipeline(std::make_shared<const bh::PolicySet>(
      std::vector<bh::Route>{bh::Route{{"example.test"}, "out", ""},
                             bh::Route{{"fax.example.test"}, "fax", "fax"}},
      trust_config(), &directory));
  std::uint8_t options = data[0];
  bh::smtp::SessionSettings settings;
  settings.intake = &pipeline;
  settings.starttls_offered = options & 1;
  settings.require_tls = options & 2;
  if (options & 4) {  // tiny limits reach the limit paths quickly
    settings.limits.command_line = 64;
    settings.limits.text_line = 1000;
    settings.limits.message_size = 300;
    settings.limits.header_bytes = 1024;
    settings.limits.recipients = 3;
    settings.limits.errors = 50;
  }
  int counter = 0;
  settings.make_queue_id = [&counter] { return "QID" + std::to_string(++counter); };
  settings.now = [] { return std::int64_t{1795000000}; };
  if (options & 32) settings.limits.content_buffer = 16;  // reaches the spill path quickly
  bh::smtp::SessionMachine machine(settings, bh::ClientInfo{"40.92.0.1", 25});
  machine.greet();

  std::size_t pos = 1;
  bool open = true;
  while (open) {
    auto event = machine.step();
    check_replies(machine.output());
    machine.output().clear();
    switch (event) {
      case bh::smtp::SessionMachine::Event::need_input: {
        if (pos >= size) return 0;
        std::size_t wanted = data[pos] % 128 + 1;
        ++pos;
        std::size_t length = std::min(wanted, size - pos);
        auto space = machine.input_space(length);
        std::copy(data + pos, data + pos + length, space.begin());
        machine.input_received(length);
        pos += length;
        break;
      }
      case bh::smtp::SessionMachine::Event::start_tls:
        machine.tls_started({"TLSv1.3",
                             "TLS_AES_128_GCM_SHA256",
                             "CN=x",
                             "AA",
                             (options & 8) != 0,
                             "mail.protection.outlook.com",
                             {"mail.protection.outlook.com"}});
        break;
      case bh::smtp::SessionMachine::Event::spill:
        (void)machine.spill_bytes();
        // Writes can fail too.
        machine.spilled((options & 64) == 0 ? bh::ok_status()
                                            : bh::Status(bh::system_error(
                                                  "append", (options & 128) ? ENOSPC : EIO)));
        break;
      case bh::smtp::SessionMachine::Event::commit: {
        const auto& draft = machine.draft();
        if (draft.header_size > draft.content.size()) std::abort();
        if (draft.envelope.recipients.empty()) std::abort();  // never queue without recipients
        machine.commit_finished((options & 16) ? bh::Status(bh::system_error("commit", ENOSPC))
                                               : bh::ok_status());
        break;
      }
      case bh::smtp::SessionMachine::Event::close:
        open = false;
        break;
    }
  }
  return 0;
}
