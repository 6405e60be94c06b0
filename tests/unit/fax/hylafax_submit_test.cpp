// submit() against the fake hfaxd: the job handed over, found again after a
// lost reply, and failures classified.
#include "tests/unit/fax/hylafax_fake_hfaxd.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <variant>

using namespace hylafax_test;

TEST_F(FaxHylafaxBackend, SubmitsAJob) {
  FakeHfaxd server(concat({login(),
                           lookup(),
                           upload(),
                           {{"JNEW", "200 New job created: jobid: 7 groupid: 7."}},
                           jparms(true),
                           {{"JPARM DOCUMENT /tmp/doc7.tif", "200 Added document."},
                            {"JSUBM", "200 Job 7 submitted."}}}));
  FaxSubmission job = submission();
  job.subaddress = "1387";
  auto result = backend(server.port())->submit(job);
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(std::holds_alternative<Submitted>(result)) << std::get<SubmitFailure>(result).text;
  EXPECT_EQ(std::get<Submitted>(result).reference, "7");
  const auto& sent = server.commands();
  EXPECT_EQ(server.uploaded().size(), std::filesystem::file_size(tiff_));
  EXPECT_EQ(find_command(sent, "JPARM DIALSTRING"), "JPARM DIALSTRING \"+4930123456\"");
  EXPECT_EQ(find_command(sent, "JPARM JOBINFO"), "JPARM JOBINFO \"bridgehead/fax/Q1.0\"");
  EXPECT_EQ(find_command(sent, "JPARM NOTIFYADDR"),
            "JPARM NOTIFYADDR \"postmaster@gw.example.com\"");
  EXPECT_EQ(find_command(sent, "JPARM FROMUSER"), "JPARM FROMUSER \"alice@example.com\"");
  EXPECT_EQ(find_command(sent, "JPARM NOTIFY "), "JPARM NOTIFY \"NONE\"");
  EXPECT_EQ(find_command(sent, "JPARM VRES"), "JPARM VRES 196");
  EXPECT_EQ(find_command(sent, "JPARM LASTTIME"), "JPARM LASTTIME 000300");
  EXPECT_EQ(find_command(sent, "JPARM SUBADDR"), "JPARM SUBADDR \"1387\"");
  EXPECT_EQ(sent.back(), "QUIT");
}

TEST_F(FaxHylafaxBackend, ARetryAfterALostSubmitReplyFindsTheJobInsteadOfSendingAgain) {
  Step lost{"JSUBM", "", Step::Data::hang_up};  // submitted, but the reply never arrives
  auto first = concat({login(),
                       lookup(),
                       upload(),
                       {{"JNEW", "200 New job created: jobid: 7 groupid: 7."}},
                       jparms(),
                       {{"JPARM DOCUMENT /tmp/doc7.tif", "200 Added document."}, lost}});
  // The retry: job 7 is in sendq now, tagged with the same tag (job 6 has the
  // tag too but is another user's, job 8 is another recipient's).
  // Found in sendq, so doneq is not asked.
  auto second = concat({login(), list("sendq",
                                      "6 P other 0 1 bridgehead/fax/Q1.0\r\n"
                                      "8 P bridgehead 0 1 bridgehead/fax/Q1.1\r\n"
                                      "7 S bridgehead 0 1 bridgehead/fax/Q1.0\r\n")});
  FakeHfaxd server(std::vector<std::vector<Step>>{first, second});
  auto fax = backend(server.port());
  auto lost_reply = fax->submit(submission());
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(lost_reply));
  EXPECT_FALSE(std::get<SubmitFailure>(lost_reply).permanent);
  EXPECT_EQ(std::get<SubmitFailure>(lost_reply).status, "4.4.1");
  std::size_t first_commands = server.commands().size();

  auto retried = fax->submit(submission());
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(std::holds_alternative<Submitted>(retried)) << std::get<SubmitFailure>(retried).text;
  EXPECT_EQ(std::get<Submitted>(retried).reference, "7");
  std::vector<std::string> retry(server.commands().begin() + first_commands,
                                 server.commands().end());
  EXPECT_EQ(find_command(retry, "JNEW"), "") << "no second job";
  EXPECT_EQ(find_command(retry, "STOT"), "") << "no second upload";
  EXPECT_EQ(find_command(retry, "JSUBM"), "");
  EXPECT_EQ(retry.back(), "QUIT");
}

TEST_F(FaxHylafaxBackend, AFinishedJobOfAnEarlierAttemptIsFoundInDoneq) {
  FakeHfaxd server(concat({login(), lookup("", "7 D bridgehead 1 1 bridgehead/fax/Q1.0\r\n")}));
  auto result = backend(server.port())->submit(submission());
  server.finish();
  EXPECT_EQ(server.failure, "");
  ASSERT_TRUE(std::holds_alternative<Submitted>(result)) << std::get<SubmitFailure>(result).text;
  EXPECT_EQ(std::get<Submitted>(result).reference, "7");
  EXPECT_EQ(find_command(server.commands(), "JNEW"), "");
}

TEST_F(FaxHylafaxBackend, FaxqUnreachableIsTransient) {
  FakeHfaxd server(concat({login(),
                           lookup(),
                           upload(),
                           {{"JNEW", "200 New job created: jobid: 8 groupid: 8."}},
                           jparms(),
                           {{"JPARM DOCUMENT", "200 Added document."},
                            {"JSUBM", "460 Failed to submit job 8: Unable to talk to faxq."}}}));
  auto result = backend(server.port())->submit(submission());
  server.finish();
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(result));
  const auto& failure = std::get<SubmitFailure>(result);
  EXPECT_FALSE(failure.permanent);
  EXPECT_EQ(failure.status, "4.3.0");
  EXPECT_NE(failure.text.find("460 Failed to submit job 8"), std::string::npos) << failure.text;
}

TEST_F(FaxHylafaxBackend, ARefusedParameterIsPermanentWithTheServersText) {
  auto script = concat({login(),
                        lookup(),
                        upload(),
                        {{"JNEW", "200 New job created: jobid: 9 groupid: 9."}},
                        {{"JPARM FROMUSER", "213 FROMUSER set."},
                         {"JPARM NOTIFYADDR", "213 NOTIFYADDR set."},
                         {"JPARM DIALSTRING", "503 Bad dialstring."}}});
  FakeHfaxd server(script);
  auto result = backend(server.port())->submit(submission());
  server.finish();
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(result));
  const auto& failure = std::get<SubmitFailure>(result);
  EXPECT_TRUE(failure.permanent);
  EXPECT_EQ(failure.status, "5.3.0");
  EXPECT_NE(failure.text.find("503 Bad dialstring."), std::string::npos) << failure.text;
}

TEST_F(FaxHylafaxBackend, AConnectionDroppedMidUploadIsTransient) {
  auto script = concat(
      {login(),
       lookup(),
       {{"FORM TIFF", "200 Format set to TIFF."},
        {"PASV", "227 Entering passive mode ({pasv})"},
        {"STOT", "150 FILE: /tmp/doc7.tif (Opening new data connection).", Step::Data::drop}}});
  FakeHfaxd server(script);
  auto result = backend(server.port())->submit(submission());
  server.finish();
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(result));
  EXPECT_FALSE(std::get<SubmitFailure>(result).permanent);
  EXPECT_EQ(std::get<SubmitFailure>(result).status, "4.4.1");
}

TEST_F(FaxHylafaxBackend, APasvToAnotherHostIsRefused) {
  Step pasv{"PASV", "227 Entering passive mode ({pasv})"};
  pasv.pasv_address = "192,0,2,1";
  FakeHfaxd server(concat(
      {login(), {{"JOBFMT \"%j %a %o %p %y %J\"", "200 JOBFMT command successful."}, pasv}}));
  auto result = backend(server.port())->submit(submission());
  server.finish();
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(result));
  const auto& failure = std::get<SubmitFailure>(result);
  EXPECT_FALSE(failure.permanent);
  EXPECT_NE(failure.text.find("192.0.2.1 is not the server's 127.0.0.1"), std::string::npos)
      << failure.text;
}

TEST_F(FaxHylafaxBackend, ALoginRefusalAndARefusedConnectionAreTransient) {
  FakeHfaxd server(std::vector<Step>{{"USER bridgehead", "530 User bridgehead access denied."}});
  auto refused = backend(server.port())->submit(submission());
  server.finish();
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(refused));
  EXPECT_FALSE(std::get<SubmitFailure>(refused).permanent);
  EXPECT_NE(std::get<SubmitFailure>(refused).text.find("530"), std::string::npos);

  std::uint16_t closed_port = 0;
  ::close(listen_loopback(closed_port));  // nothing listens there any more
  auto unreachable = backend(closed_port)->submit(submission());
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(unreachable));
  EXPECT_FALSE(std::get<SubmitFailure>(unreachable).permanent);
  EXPECT_EQ(std::get<SubmitFailure>(unreachable).status, "4.4.1");
}

TEST_F(FaxHylafaxBackend, SendsThePasswordWhenTheServerAsksForOne) {
  std::filesystem::path password = directory_ / "hylafax.password";
  std::ofstream(password) << "s3cret\n";
  std::filesystem::permissions(
      password, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto script = login();
  script.insert(script.begin() + 1, Step{"PASS s3cret", "230 User bridgehead logged in."});
  script[0].reply = "331 Password required for bridgehead.";
  script.push_back({"JOB 3", "200 Current job: jobid: 3 groupid: 3."});
  script.push_back({"JDELE", "200 Job 3 deleted; current job: (default)."});
  FakeHfaxd server(script);
  FaxSettings settings;
  settings.name = "fax";
  settings.hylafax.port = server.port();
  settings.hylafax.password_file = password.string();
  auto forgotten = make_hylafax_backend(settings)->forget("3");
  server.finish();
  EXPECT_EQ(server.failure, "");
  EXPECT_TRUE(forgotten) << forgotten.error().message;

  // Without a password_file the request for one is an error naming the problem.
  FakeHfaxd asks(std::vector<Step>{{"USER bridgehead", "331 Password required for bridgehead."}});
  auto refused = backend(asks.port())->forget("3");
  asks.finish();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("none is configured"), std::string::npos)
      << refused.error().message;
}

TEST_F(FaxHylafaxBackend, AFailureTextNamesNoLocalPath) {
  FakeHfaxd server(concat({login(), lookup()}));
  FaxSubmission job = submission();
  job.tiff = directory_ / "missing.tif";  // the upload cannot open it
  auto result = backend(server.port())->submit(job);
  server.finish();
  ASSERT_TRUE(std::holds_alternative<SubmitFailure>(result));
  const auto& failure = std::get<SubmitFailure>(result);
  EXPECT_FALSE(failure.permanent);
  EXPECT_EQ(failure.text.find(directory_.string()), std::string::npos) << failure.text;
  EXPECT_NE(failure.text.find("the fax document"), std::string::npos) << failure.text;
}
