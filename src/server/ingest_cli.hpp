// `bridgehead ingest fax [-c CONFIG] [--connector NAME] --called NUMBER
// [--caller NUMBER] [--caller-name NAME] [--tsi TSI] FILE.tif`: what a fax
// server's receive hook (HylaFAX's FaxDispatch) calls. It puts the fax
// into the fax connector's ingest folder (connectors/fax/ingest_folder.hpp)
// durably and returns; the running gateway turns it into a mail. It does
// not need the gateway to run at that moment.
#pragma once

#include <ostream>

namespace CLI {
class App;
}

namespace bh {

// Adds "ingest" to app; the arguments after it are parsed by
// ingest_command itself, so that a bad one exits with 2 as well.
CLI::App* add_ingest_command(CLI::App& app);

// Exit status: 0 the fax is durable in the folder; 2 it is not (a bad
// argument or configuration, no such fax connector, not a TIFF, the folder
// not writable), with the reason on err.
int ingest_command(CLI::App& ingest, std::ostream& out, std::ostream& err);

}  // namespace bh
