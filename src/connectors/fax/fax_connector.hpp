// Mail -> fax (README.md in this folder): each recipient's address names
// a fax number; the mail is rendered to TIFF-F pages by the sandboxed
// helper (render_client.hpp) and handed to the backend (HylaFAX or a
// spool folder); the recipient is then pending with the backend's job id
// until a poll finds the job finished and resolves it through the
// PendingSink. Renders and submissions run on the connector's own worker
// threads (max_parallel_renders), never on the caller's.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "connectors/connector.hpp"
#include "connectors/destination_rules.hpp"
#include "connectors/fax/fax_backend.hpp"
#include "connectors/fax/fax_delivery.hpp"
#include "connectors/fax/fax_ingest.hpp"
#include "connectors/fax/fax_settings.hpp"
#include "connectors/fax/ingest_folder.hpp"
#include "connectors/fax/report_thumbnails.hpp"

namespace bh::connectors::fax {

class FaxConnector final : public Connector {
 public:
  static Result<std::shared_ptr<FaxConnector>> create(const FaxSettings& settings);
  // With a backend of the caller's (tests); server names it in the log.
  static Result<std::shared_ptr<FaxConnector>> create(const FaxSettings& settings,
                                                      std::unique_ptr<FaxBackend> backend,
                                                      std::string server);
  ~FaxConnector() override;

  void deliver(DeliveryRequest request, DeliveryDone done) override;
  void stop() override;
  void attach(PendingSink* sink) override;
  void attach_intake(const IntakeServices& services) override;
  // Page one's thumbnail for the success report (report_thumbnail), from
  // the shared store; dropped once the report is written.
  std::optional<ReportAttachment> report_attachment(const std::string& reference) override;
  void report_written(const std::string& reference) override;
  // Fax -> mail (fax_ingest.hpp), once attach_intake gave it the intake and
  // the directory; null before. The admin API ingests through it.
  FaxIngest* ingest();

 private:
  struct Job {
    DeliveryRequest request;
    DeliveryDone done;
  };
  FaxConnector(const FaxSettings& settings, DestinationCheck destinations,
               std::unique_ptr<FaxBackend> backend, std::string server, std::string cover);
  void start();
  void work();
  void poll();
  void poll_once();

  const FaxSettings settings_;
  const DestinationCheck destinations_;
  std::unique_ptr<FaxBackend> backend_;
  // One submission at a time; the poll too, unless the backend
  // polls_alongside_submissions().
  std::mutex backend_mutex_;
  const std::string server_;      // for the log: "hylafax 127.0.0.1:4559", "spool /var/spool/fax"
  const std::string remote_mta_;  // for DSNs: the HylaFAX host; empty for the spool folder
  const std::string place_;       // for diagnostics: "HylaFAX server faxhost", no local path
  const std::string cover_;       // the cover template's text; empty: no cover page
  std::mutex mutex_;
  std::condition_variable work_ready_;  // workers wait on it for jobs_
  std::condition_variable stopped_;     // the poll thread sleeps on it between polls
  std::deque<Job> jobs_;
  // Set under mutex_ (the condition variables' predicates read it there);
  // atomic because the workers also read it mid-delivery (DeliveryContext).
  std::atomic<bool> stopping_ = false;
  PendingSink* sink_ = nullptr;
  IntakeServices intake_;
  std::vector<std::thread> workers_;
  std::thread poller_;
  std::unique_ptr<FaxIngest> ingest_;     // fax -> mail, after attach_intake
  std::unique_ptr<IngestFolder> folder_;  // scans settings_.ingest.directory
  ReportThumbnails thumbnails_;           // in the shared store, after attach_intake
};

}  // namespace bh::connectors::fax
