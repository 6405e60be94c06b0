// Settings of a fax connector ([[connector]] type = "fax"; README.md in
// this folder lists every key with its default).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "connectors/destination_rules.hpp"  // DestinationRules: destinations
#include "connectors/fax/render_client.hpp"
#include "render/page_format.hpp"
#include "render/thumbnail.hpp"

namespace bh::connectors::fax {

enum class Backend { hylafax, spool };

// How the sender hears of a fax that went through.
enum class SuccessNotice {
  dsn,     // a success DSN only when the recipient asked for it (NOTIFY=SUCCESS)
  report,  // always a short report (pages, duration, remote CSID) unless NOTIFY=NEVER
};

// A report may come just before pending_timeout and be applied only at the
// message's next attempt (or after a node was down): a week's margin.
constexpr std::chrono::seconds kThumbnailKeptPastTimeout{7 * 86400};

// success_notice = "report" with report_thumbnail: a PNG of page one in
// the sender's report. The render helper writes it with the fax; it waits
// in the shared store (thumbnail_store.hpp) until the report is written,
// and at most pending_timeout + kThumbnailKeptPastTimeout (max_age).
struct ThumbnailSettings {
  bool enabled = false;  // report_thumbnail
  // report_thumbnail_width, within render/thumbnail.hpp's range
  int width_px = render::ThumbnailSize{}.width_px;
  std::chrono::seconds max_age = std::chrono::seconds(86400) + kThumbnailKeptPastTimeout;
};

struct HylafaxSettings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4559;
  std::string user = "bridgehead";
  std::string password_file;  // empty: no PASS (hosts.hfaxd admits the user without one)
  // ADMIN password (hosts.hfaxd's fourth field), used by the poll to read
  // session logs (call duration); empty: no ADMIN, logs only if world-readable.
  std::string admin_password_file;
  std::string modem = "any";
  std::chrono::seconds timeout{30};          // connect and each command
  std::chrono::seconds poll_interval{15};    // how often finished jobs are asked for
  std::chrono::seconds kill_time{3 * 3600};  // JPARM LASTTIME: HylaFAX gives up after this
  int max_tries = 3;
  int max_dials = 12;
  std::string notify_address;  // JPARM NOTIFYADDR; default postmaster@<hostname>
};

struct SpoolSettings {
  std::filesystem::path directory;  // outgoing/ (jobs), results/ (their reports), incoming/ (faxes)
  std::chrono::seconds poll_interval{5};
};

// Fax -> mail (issue 10): what becomes of a fax that arrives.
struct IngestSettings {
  // Where received faxes are dropped (by `bridgehead ingest fax` or a fax
  // server): <name>.tif, then <name>.json with the call's data. Default:
  // the spool backend's incoming/, else <work_directory>/incoming.
  std::filesystem::path directory;
  std::chrono::seconds poll_interval{5};
  std::string reply_domain;  // From: <+4930123456@reply_domain>; default: the first domain
  std::string catch_all;     // mailbox for numbers the directory does not know; empty: refuse
  bool attach_tiff = false;  // the TIFF as well as the PDF
  std::string sender;        // envelope sender of the mails; default: postmaster@<hostname>
  int max_pages = 200;       // a received fax with more pages is refused
  std::uint64_t max_bytes = 64ull << 20;  // the largest received TIFF
};

struct FaxSettings {
  std::string name;
  std::string hostname;  // the gateway's (Message-ID, Reporting-MTA)
  Backend backend = Backend::hylafax;
  HylafaxSettings hylafax;
  SpoolSettings spool;
  // The domains whose local part is a number: +4930123456@fax.example.com,
  // and RFC 3192's FAX=+49-30-123456@fax.example.com. A route sends them here.
  std::vector<std::string> domains;
  std::string default_region = "DE";  // for national numbers (030 123456)
  DestinationRules destinations;      // refused before rendering (5.7.1)
  render::PageFormat format;
  int max_pages = 50;  // of the document, without the cover
  std::uint64_t max_message_bytes = 20ull
                                    << 20;  // a bigger mail is refused (5.3.4) before rendering
  std::filesystem::path
      cover_template;  // UTF-8 text file with {sender} {recipient} {subject} {pages} {date}
  SuccessNotice success_notice = SuccessNotice::dsn;
  ThumbnailSettings thumbnail;
  RenderHelper render;
  std::filesystem::path
      work_directory;  // rendered TIFFs until submitted; default <queue>/fax/<name>
  unsigned max_parallel_renders = 2;
  IngestSettings ingest;
};

}  // namespace bh::connectors::fax
