#include "m365/setup.hpp"

#include "m365/setup_plan.hpp"

namespace bh::m365 {

std::optional<Topology> topology_from(std::string_view name) {
  if (name == "davor") return Topology::davor;
  if (name == "daneben1") return Topology::daneben1;
  if (name == "daneben2") return Topology::daneben2;
  if (name == "service") return Topology::service;
  return std::nullopt;
}

std::string_view topology_name(Topology topology) {
  switch (topology) {
    case Topology::davor:
      return "davor";
    case Topology::daneben1:
      return "daneben1";
    case Topology::daneben2:
      return "daneben2";
    case Topology::service:
      return "service";
  }
  return "?";
}

Result<SetupScript> generate_setup(const Config& config, const SetupInput& input) {
  detail::Findings found;
  detail::Plan plan = detail::make_plan(config, input, found);
  auto failed = [&] {
    std::string joined;
    for (const std::string& p : found.problems) joined += (joined.empty() ? "" : "\n") + p;
    return Error{joined};
  };
  if (!found.problems.empty()) return failed();
  auto text = detail::render_script(plan);
  if (!text) {
    found.problems.push_back(plan.source + ": " + text.error().message);
    return failed();
  }
  return SetupScript{std::move(*text), std::move(found.warnings)};
}

}  // namespace bh::m365
