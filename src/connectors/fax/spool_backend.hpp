// The `spool` backend: a hot folder for fax servers that pick jobs up
// from a directory (README.md, "The spool folder"). A job is
// outgoing/<ref>.tif, then outgoing/<ref>.json (each written under a
// temporary name, synced and renamed, the JSON last: a picker that waits
// for the JSON never sees a half-written TIFF). <ref> is the submission's
// tag (made a safe file name), so a second attempt at the same job finds
// the first one's files: submit() looks in outgoing/, taken/ (where the
// picker moves a job it works on), results/ and results/bad/ and then
// writes nothing. The fax server answers with results/<ref>.json; a
// result file that cannot be read is logged and moved to results/bad/,
// never ignored.
#pragma once

#include <filesystem>
#include <string>

#include "connectors/fax/fax_backend.hpp"
#include "connectors/fax/fax_settings.hpp"

namespace bh::connectors::fax {

class SpoolBackend final : public FaxBackend {
 public:
  // Creates outgoing/, taken/, results/ and results/bad/ when they are missing.
  static Result<std::unique_ptr<SpoolBackend>> open(const SpoolSettings& settings,
                                                    std::string connector_name);

  std::variant<Submitted, SubmitFailure> submit(const FaxSubmission& submission) override;
  Result<std::vector<FaxJobReport>> finished() override;
  Status forget(const std::string& reference) override;

 private:
  SpoolBackend(const SpoolSettings& settings, std::string connector_name);
  Status write_job(const std::string& reference, const FaxSubmission& submission);
  // Whether a job of this name is in outgoing/, taken/, results/ or results/bad/.
  Result<bool> handed_over(const std::string& reference) const;
  SubmitFailure failed(const std::string& reference, const Error& error) const;

  std::filesystem::path outgoing_;
  std::filesystem::path results_;
  std::filesystem::path bad_;
  std::filesystem::path taken_;
  std::string connector_name_;
};

// A result file's text -> its report; an error says what is wrong with it.
// reference: the name the file has (results/<reference>.json), which the
// "reference" member must repeat. Exposed for tests.
Result<FaxJobReport> parse_spool_result(std::string_view text, const std::string& reference);

// The job's name: the tag ("<queue id>.<generation>.<index>") reduced to
// [A-Za-z0-9._-], not starting with '.': "00065A1B2C3D.2.0". The same tag
// gives the same name, which is what makes submit() idempotent.
std::string spool_reference(std::string_view tag);

}  // namespace bh::connectors::fax
