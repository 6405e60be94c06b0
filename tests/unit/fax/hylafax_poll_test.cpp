// finished() and forget() against the fake hfaxd: which jobs are reported,
// vanished jobs, the cache of call facts and the poll's budget.
#include "tests/unit/fax/hylafax_fake_hfaxd.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <variant>

using namespace hylafax_test;

TEST_F(FaxHylafaxBackend, AJobInNeitherQueueIsLoggedAsVanished) {
  auto submit = concat({login(),
                        lookup(),
                        upload(),
                        {{"JNEW", "200 New job created: jobid: 7 groupid: 7."}},
                        jparms(),
                        {{"JPARM DOCUMENT /tmp/doc7.tif", "200 Added document."},
                         {"JSUBM", "200 Job 7 submitted."}}});
  // First poll: job 7 still waits in sendq. Second poll: gone from both
  // queues (faxqclean expired it before a poll saw it in doneq).
  auto waiting = lookup("7 S bridgehead 0 1 bridgehead/fax/Q1.0\r\n");
  auto gone = lookup();
  FakeHfaxd server(
      std::vector<std::vector<Step>>{submit, concat({login(), waiting}), concat({login(), gone})});
  auto fax = backend(server.port());
  ASSERT_TRUE(std::holds_alternative<Submitted>(fax->submit(submission())));
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  auto first = fax->finished();
  std::string first_log = testing::internal::GetCapturedStdout();
  first_log += testing::internal::GetCapturedStderr();
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  auto second = fax->finished();
  std::string second_log = testing::internal::GetCapturedStdout();
  second_log += testing::internal::GetCapturedStderr();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(first->empty());
  EXPECT_TRUE(second->empty());
  EXPECT_EQ(first_log.find("fax_hylafax_job_vanished"), std::string::npos) << first_log;
  EXPECT_NE(second_log.find("fax_hylafax_job_vanished"), std::string::npos) << second_log;
  EXPECT_NE(second_log.find("Q1.0"), std::string::npos) << second_log;
}

// The poll does not take the submission lock: a retry's submit may find
// job 7 in doneq just before the poll reports and forgets it, and only then
// watch it. A forgotten job is never watched again, so the next poll (job 7
// gone, as forget() deleted it) calls nothing vanished.
TEST_F(FaxHylafaxBackend, AJobForgottenBeforeItsSubmissionWatchedItIsNotVanished) {
  auto forget_7 = concat({login(),
                          {{"JOB 7", "200 Current job: jobid: 7 groupid: 7."},
                           {"JDELE", "200 Job 7 deleted; current job: (default)."}}});
  auto found_7 = concat({login(), lookup("", "7 D bridgehead 1 1 bridgehead/fax/Q1.0\r\n")});
  auto gone = concat({login(), lookup()});
  FakeHfaxd server(std::vector<std::vector<Step>>{forget_7, found_7, gone});
  auto fax = backend(server.port());
  ASSERT_TRUE(fax->forget("7"));
  auto found = fax->submit(submission());
  ASSERT_TRUE(std::holds_alternative<Submitted>(found)) << std::get<SubmitFailure>(found).text;
  EXPECT_EQ(std::get<Submitted>(found).reference, "7");
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  auto polled = fax->finished();
  std::string log_text = testing::internal::GetCapturedStdout();
  log_text += testing::internal::GetCapturedStderr();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(polled) << polled.error().message;
  EXPECT_TRUE(polled->empty());
  EXPECT_EQ(log_text.find("fax_hylafax_job_vanished"), std::string::npos) << log_text;
}

TEST_F(FaxHylafaxBackend, ReportsOnlyItsOwnFinishedJobs) {
  Step done_list{"LIST doneq", "150 Opening new data connection for \"doneq\".",
                 Step::Data::listing, "226 Transfer complete."};
  done_list.listing =
      "3 F bridgehead 1 2 bridgehead/fax/Q1.0\r\n"
      "4 D bridgehead 2 2 bridgehead/fax/Q2.0\r\n"
      "5 D bridgehead 1 1 somebody else's tag\r\n"
      "6 D other 1 1 bridgehead/fax/Q3.0\r\n"
      "7 D bridgehead 1 1 bridgehead/other-connector/Q4.0\r\n";
  Step qfile{"RETR doneq/q3", "150 Opening new data connection for doneq/q3 (60 bytes).",
             Step::Data::listing, "226 Transfer complete."};
  qfile.listing = "state:8\nnpages:1\ncsi:+49 30 123456\nstatus:No carrier detected\n";
  FakeHfaxd server(concat({login(),
                           list("sendq", "9 S bridgehead 0 1 bridgehead/fax/Q5.0\r\n"),
                           {{"JOBFMT \"%j %a %o %p %y %J\"", "200 JOBFMT command successful."},
                            {"PASV", "227 Entering passive mode ({pasv})"},
                            done_list,
                            {"JOB 3", "200 Current job: jobid: 3 groupid: 3."},
                            {"JPARM STATUS", "213 No carrier detected"},
                            {"JPARM STATUSCODE", "213 002"},
                            {"PASV", "227 Entering passive mode ({pasv})"},
                            qfile,
                            {"JOB 4", "200 Current job: jobid: 4 groupid: 4."},
                            {"JPARM STATUS", "213 "},
                            {"JPARM STATUSCODE", "213 000"},
                            {"PASV", "227 Entering passive mode ({pasv})"},
                            {"RETR doneq/q4", "550 doneq/q4: Operation not permitted."}}}));
  auto reports = backend(server.port())->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(reports) << reports.error().message;
  ASSERT_EQ(reports->size(), 2u);
  const FaxJobReport& failed = (*reports)[0];
  EXPECT_EQ(failed.reference, "3");
  EXPECT_FALSE(failed.sent);
  EXPECT_EQ(failed.status_text, "No carrier detected");
  EXPECT_EQ(failed.status_code, 2);
  EXPECT_EQ(failed.pages_sent, 1);
  EXPECT_EQ(failed.pages_total, 2);
  EXPECT_EQ(failed.remote_csid, "+49 30 123456");
  const FaxJobReport& done = (*reports)[1];
  EXPECT_EQ(done.reference, "4");
  EXPECT_TRUE(done.sent);
  EXPECT_EQ(done.status_code, 0);
  EXPECT_EQ(done.pages_sent, 2);
  EXPECT_EQ(done.remote_csid, "") << "a queue file that cannot be read leaves the CSID out";
}

TEST_F(FaxHylafaxBackend, ForgetsDoneJobsAndJobsThatAreGone) {
  FakeHfaxd server(concat({login(),
                           {{"JOB 3", "200 Current job: jobid: 3 groupid: 3."},
                            {"JDELE", "200 Job 3 deleted; current job: (default)."}}}));
  auto forgotten = backend(server.port())->forget("3");
  server.finish();
  EXPECT_EQ(server.failure, "");
  EXPECT_TRUE(forgotten) << forgotten.error().message;

  FakeHfaxd gone(concat({login(), {{"JOB 99", "500 Cannot set job 99; job does not exist."}}}));
  EXPECT_TRUE(backend(gone.port())->forget("99"));
  gone.finish();

  FakeHfaxd busy(concat({login(),
                         {{"JOB 5", "200 Current job: jobid: 5 groupid: 5."},
                          {"JDELE", "504 Job 5 not deleted; job is not done."}}}));
  auto refused = backend(busy.port())->forget("5");
  busy.finish();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("504"), std::string::npos);
  EXPECT_FALSE(backend(busy.port())->forget("5; JKILL"));  // not a job id: nothing is sent
}

namespace {

// LIST doneq naming jobs 4 and 5, both sent.
std::vector<Step> two_done_jobs() {
  auto steps = one_done_job();
  steps.back().listing += "5 D bridgehead 1 1 bridgehead/fax/Q3.0\r\n";
  return steps;
}

std::vector<Step> status_of(const std::string& job) {
  return {{"JOB " + job, "200 Current job: jobid: " + job + " groupid: " + job + "."},
          {"JPARM STATUS", "213 "},
          {"JPARM STATUSCODE", "213 000"}};
}

// Job 5's queue file (its call: commid 43) and session log (20 s).
std::string job5_qfile() {
  std::string qfile = kSentQfile;
  qfile.replace(qfile.find("commid:000000042"), 16, "commid:000000043");
  qfile.replace(qfile.find("csi:+49 30 999"), 14, "csi:+49 30 555");
  return qfile;
}
const std::string kJob5Log =
    "Dec 02 16:50:00.00: [ 4243]: DIAL +4930123456\n"
    "Dec 02 16:50:20.00: [ 4243]: SESSION END\n";

}  // namespace

TEST_F(FaxHylafaxBackend, CallFactsAreReadOnceWhileTheJobStaysInDoneq) {
  // Poll 1 reads job 4's files; poll 2 (the report was not durable, job 4
  // is still in doneq) asks only for its status; poll 3 finds doneq empty
  // (the cached facts are dropped); poll 4 finds job 4 again and reads them.
  auto read_all = concat({login(), list("sendq", ""), one_done_job(), job_status(),
                          retr("doneq/q4", kSentQfile), retr("log/c000000042", kSessionLog)});
  FakeHfaxd server(std::vector<std::vector<Step>>{
      read_all, concat({login(), list("sendq", ""), one_done_job(), job_status()}),
      concat({login(), lookup()}), read_all});
  auto fax = backend(server.port());
  auto first = fax->finished();
  auto second = fax->finished();
  auto third = fax->finished();
  auto fourth = fax->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(first && second && third && fourth);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ(second->front().remote_csid, "+49 30 999");
  EXPECT_EQ(second->front().duration, std::chrono::seconds(41));
  EXPECT_TRUE(third->empty());
  ASSERT_EQ(fourth->size(), 1u);
  EXPECT_EQ(fourth->front().duration, std::chrono::seconds(41));
}

TEST_F(FaxHylafaxBackend, AJobWhoseLogLosesTheConnectionHoldsUpNoOtherJob) {
  // Job 4's session log read loses the connection, every time it is
  // tried. Poll 1 reports job 4 without a duration and leaves job 5's
  // files to the next poll; poll 2 does not try job 4's log again
  // (its report was not durable, it is still in doneq) and reports job 5.
  Step drop{"RETR log/c000000042", "150 Opening new data connection.", Step::Data::drop};
  auto first = concat({login(),
                       list("sendq", ""),
                       two_done_jobs(),
                       status_of("4"),
                       retr("doneq/q4", kSentQfile),
                       {{"PASV", "227 Entering passive mode ({pasv})"}, drop}});
  auto second = concat({login(), list("sendq", ""), two_done_jobs(), status_of("4"), status_of("5"),
                        retr("doneq/q5", job5_qfile()), retr("log/c000000043", kJob5Log)});
  FakeHfaxd server(std::vector<std::vector<Step>>{first, second});
  auto fax = backend(server.port());
  auto poll1 = fax->finished();
  auto poll2 = fax->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(poll1) << poll1.error().message;
  ASSERT_EQ(poll1->size(), 1u);
  EXPECT_EQ(poll1->front().reference, "4");
  EXPECT_EQ(poll1->front().remote_csid, "+49 30 999") << "what was read is kept";
  EXPECT_EQ(poll1->front().duration, std::chrono::seconds(0));
  ASSERT_TRUE(poll2) << poll2.error().message;
  ASSERT_EQ(poll2->size(), 2u);
  EXPECT_EQ((*poll2)[0].reference, "4");
  EXPECT_EQ((*poll2)[0].duration, std::chrono::seconds(0));
  EXPECT_EQ((*poll2)[1].reference, "5");
  EXPECT_EQ((*poll2)[1].remote_csid, "+49 30 555");
  EXPECT_EQ((*poll2)[1].duration, std::chrono::seconds(20));
}

TEST_F(FaxHylafaxBackend, APollSpendsAtMostItsBudgetOnCallFacts) {
  // The first job's facts are always read; with no bytes (or no time)
  // left, job 5's wait for the next poll, where job 4's come from the cache.
  hylafax::PollLimits no_bytes;
  no_bytes.max_fact_bytes = 1;
  hylafax::PollLimits no_time;
  no_time.max_fact_time = std::chrono::milliseconds(0);
  for (const auto& limits : {no_bytes, no_time}) {
    auto first = concat({login(), list("sendq", ""), two_done_jobs(), status_of("4"),
                         retr("doneq/q4", kSentQfile), retr("log/c000000042", kSessionLog)});
    auto second =
        concat({login(), list("sendq", ""), two_done_jobs(), status_of("4"), status_of("5"),
                retr("doneq/q5", job5_qfile()), retr("log/c000000043", kJob5Log)});
    FakeHfaxd server(std::vector<std::vector<Step>>{first, second});
    auto fax = backend(server.port(), limits);
    auto poll1 = fax->finished();
    auto poll2 = fax->finished();
    server.finish();
    EXPECT_EQ(server.failure, "");
    ASSERT_TRUE(poll1 && poll2);
    ASSERT_EQ(poll1->size(), 1u);
    EXPECT_EQ(poll1->front().duration, std::chrono::seconds(41));
    ASSERT_EQ(poll2->size(), 2u);
    EXPECT_EQ((*poll2)[0].duration, std::chrono::seconds(41));
    EXPECT_EQ((*poll2)[1].duration, std::chrono::seconds(20));
  }
}

TEST_F(FaxHylafaxBackend, WithTheDefaultBudgetAPollReadsManyJobsFacts) {
  // 2 jobs: both read in one poll (the budget is no limit in normal use).
  FakeHfaxd server(
      concat({login(), list("sendq", ""), two_done_jobs(), status_of("4"),
              retr("doneq/q4", kSentQfile), retr("log/c000000042", kSessionLog), status_of("5"),
              retr("doneq/q5", job5_qfile()), retr("log/c000000043", kJob5Log)}));
  auto reports = backend(server.port())->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(reports);
  ASSERT_EQ(reports->size(), 2u);
  EXPECT_EQ((*reports)[1].duration, std::chrono::seconds(20));
}

TEST_F(FaxHylafaxBackend, AfterALostConnectionThePollReconnectsOnceForTheJobsItCanReport) {
  // Poll 1 reads the facts of jobs 4 and 5. Poll 2 lists a new job 6
  // first: its log read loses the connection; the facts of jobs 4 and 5
  // are known, so the poll connects again and reports them too.
  auto first =
      concat({login(), list("sendq", ""), two_done_jobs(), status_of("4"),
              retr("doneq/q4", kSentQfile), retr("log/c000000042", kSessionLog), status_of("5"),
              retr("doneq/q5", job5_qfile()), retr("log/c000000043", kJob5Log)});
  auto listing = two_done_jobs();
  listing.back().listing = "6 D bridgehead 1 1 bridgehead/fax/Q6.0\r\n" + listing.back().listing;
  Step drop{"RETR log/c000000042", "150 Opening new data connection.", Step::Data::drop};
  auto second = concat({login(),
                        list("sendq", ""),
                        listing,
                        status_of("6"),
                        retr("doneq/q6", kSentQfile),
                        {{"PASV", "227 Entering passive mode ({pasv})"}, drop}});
  auto again = concat({login(), status_of("4"), status_of("5")});
  FakeHfaxd server(std::vector<std::vector<Step>>{first, second, again});
  auto fax = backend(server.port());
  auto poll1 = fax->finished();
  auto poll2 = fax->finished();
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(poll1 && poll2);
  ASSERT_EQ(poll2->size(), 3u);
  EXPECT_EQ((*poll2)[0].reference, "6");
  EXPECT_EQ((*poll2)[0].duration, std::chrono::seconds(0));
  EXPECT_EQ((*poll2)[1].duration, std::chrono::seconds(41));
  EXPECT_EQ((*poll2)[2].reference, "5");
  EXPECT_EQ((*poll2)[2].duration, std::chrono::seconds(20));
  EXPECT_EQ(server.commands().back(), "QUIT");
}
