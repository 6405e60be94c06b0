// FaxBackend on a HylaFAX server (hfaxd, client protocol on port 4559).
// submit(): one connection per job: LIST sendq and doneq for a job of
// the configured user whose JOBINFO is job_tag_prefix() + the tag (an
// earlier attempt's: then its id is the reference and nothing is sent);
// else upload the TIFF (STOT), JNEW, the JPARMs, JSUBM; the reference is
// HylaFAX's job id. finished(): one connection, LIST sendq and doneq; the
// finished jobs that are this connector's (owner = the configured user,
// JOBINFO starting with job_tag_prefix()) are reported, so it needs no
// memory of earlier submissions and works after a restart. A job this
// process saw (submitted, found, or listed in sendq) that is in neither
// queue any more is logged as an error (fax_hylafax_job_vanished): its
// result is lost. forget(): JDELE. The jobs are described by
// hylafax_poll.hpp: the remote CSID and the call's duration are in no
// JPARM but in the job's queue file and the call's session log
// (hylafax_call.hpp), read once per job and within the poll's limits
// (hylafax_limits.hpp); to read session logs of mode 0600 the poll asks
// for ADMIN with hylafax_admin_password_file. Every call has its own
// connection, so finished() runs beside submit()
// (polls_alongside_submissions).
#pragma once

#include <memory>
#include <string>

#include "connectors/fax/fax_backend.hpp"
#include "connectors/fax/fax_settings.hpp"
#include "connectors/fax/hylafax_limits.hpp"

namespace bh::connectors::fax {

// JOBINFO of this connector's jobs: the prefix, then FaxSubmission::tag.
std::string job_tag_prefix(const std::string& connector_name);

// limits: what a poll may spend (tests pass smaller ones).
std::unique_ptr<FaxBackend> make_hylafax_backend(const FaxSettings& settings,
                                                 const hylafax::PollLimits& limits = {});

}  // namespace bh::connectors::fax
