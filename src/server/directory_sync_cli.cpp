#include "server/directory_sync_cli.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "directory/ldap_sync.hpp"
#include "util/printable.hpp"

namespace bh {
namespace {

using directory::LdapSource;
using directory::LdapSyncReport;

std::string to_lower(std::string text) {
  for (char& c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

std::string summary(const LdapSyncReport& r) {
  std::string text =
      fmt::format("{} entries in {} page(s): {} user(s) ({} added, {} removed, {} changed)",
                  r.entries, r.pages, r.users, r.added, r.removed, r.changed);
  if (r.skipped)
    text += fmt::format(", {} entr{} skipped", r.skipped, r.skipped == 1 ? "y" : "ies");
  if (r.numbers_dropped) text += fmt::format(", {} service number(s) dropped", r.numbers_dropped);
  if (r.unchanged) text += ", nothing to change";
  return text;
}

// One source: the report on out, problems and errors on err. true when the
// directory holds what LDAP has.
bool run_one(const LdapSource& source, directory::DirectoryStore& store,
             const directory::NormaliseOptions& options, std::ostream& out, std::ostream& err) {
  std::string name = "ldap " + source.tenant;
  auto report = directory::sync_ldap(source, store, options);
  if (!report) {
    err << name << ": " << printable(report.error().message) << ": nothing changed" << std::endl;
    return false;
  }
  for (const auto& warning : report->warnings)
    err << name << ": warning: " << printable(warning) << "\n";
  for (const auto& problem : report->problems)
    err << name << ": \"" << printable(problem.dn) << "\": " << printable(problem.message) << "\n";
  if (!report->applied) {
    err << name << ": refused: " << report->problems.size()
        << " problem(s) and on_error = \"abort\"; nothing changed" << std::endl;
    return false;
  }
  out << name << ": " << summary(*report) << std::endl;
  return true;
}

// Waits until deadline or SIGINT/SIGTERM (blocked, so they are taken here
// and not by the default handler mid-transaction). true: a signal came.
bool wait_for_signal(const sigset_t& signals, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec timeout{static_cast<time_t>(ns / 1'000'000'000),
                     static_cast<long>(ns % 1'000'000'000)};
    int taken = sigtimedwait(&signals, nullptr, &timeout);
    if (taken > 0) return true;
    if (taken < 0 && errno != EAGAIN && errno != EINTR) return false;
  }
}

}  // namespace

int sync_ldap_command(const Config& config, directory::DirectoryStore& store,
                      const SyncLdapArgs& args, std::ostream& out, std::ostream& err) {
  std::vector<const LdapSource*> sources;
  std::string tenant = to_lower(args.tenant);
  for (const auto& source : config.directory.ldap)
    if (tenant.empty() || source.tenant == tenant) sources.push_back(&source);
  if (sources.empty()) {
    err << "directory sync ldap: "
        << (tenant.empty() ? config.source + " has no [[directory.ldap]] source"
                           : config.source + " has no [[directory.ldap]] source for tenant " +
                                 printable(tenant))
        << "\n";
    return 2;
  }
  std::set<std::string> services;
  for (const auto& route : config.routes)
    if (!route.service.empty()) services.insert(route.service);
  for (const LdapSource* source : sources)
    for (const auto& [service, groups] : source->groups)
      if (!services.contains(service))
        err << "ldap " << source->tenant << ": warning: service '" << service
            << "' of [directory.ldap.groups] is the service of no route; it has no effect\n";
  directory::NormaliseOptions options{config.directory.default_region};
  if (args.once) {
    bool all = true;
    for (const LdapSource* source : sources)
      all = run_one(*source, store, options, out, err) && all;
    return all ? 0 : 1;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> due(sources.size(), Clock::now());
  while (true) {
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (Clock::now() < due[i]) continue;
      run_one(*sources[i], store, options, out, err);
      std::int64_t interval = args.every.value_or(sources[i]->interval_seconds);
      due[i] = Clock::now() + std::chrono::seconds(interval);
    }
    if (wait_for_signal(signals, *std::min_element(due.begin(), due.end()))) {
      out << "directory sync ldap: stopped" << std::endl;
      return 0;
    }
  }
}

}  // namespace bh
