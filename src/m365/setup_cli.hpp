// `bridgehead m365 setup -c CONFIG --topology davor|daneben1|daneben2|service
// [--tenant ID]`: prints the Exchange Online PowerShell for the tenant side
// (docs/m365-setup.md). Exit status 0 with the script on stdout (warnings on
// stderr); 2 with every problem on stderr, one per line, and no script.
#pragma once

#include <ostream>

namespace CLI {
class App;
}

namespace bh::m365 {

// Adds "m365" (with "setup") to app. The arguments after "setup" are parsed
// by m365_command itself, so that a bad one exits with 2 as well.
CLI::App* add_m365_command(CLI::App& app);
int m365_command(CLI::App& m365, std::ostream& out, std::ostream& err);

}  // namespace bh::m365
