// fenzhang verify: the hash chain, the id index and (with the engine) the projection.
#include <fmt/format.h>
#include <boost/json.hpp>

#include "store/codec.hpp"
#include "store/ledger.hpp"
#include "store/verify.hpp"
#include "tools/cli.hpp"

namespace fz::cli {

void add_verify(CLI::App& app, Globals& g, std::vector<Command>& out) {
  CLI::App* sub =
      app.add_subcommand("verify", "check the hash chain, the id index and the projection; print the head");
  out.push_back(
      {sub, [&g]() -> int {
         auto ledger = Ledger::open(g.db_dir(), Ledger::Access::kRead);
         if (!ledger) return fail(ledger.message());
         auto report = verify_log(**ledger);
         const bool json = g.format_name == "json";
         if (!report) {
           if (json) {
             boost::json::object o{{"ok", false}, {"error", report.message()}};
             std::cout << boost::json::serialize(o) << "\n";
           } else {
             std::cout << "verify failed: " << report.message() << "\n";
           }
           return kExitRejected;
         }
         if (json) {
           boost::json::object o{{"ok", true}, {"events", report->events}, {"head", hash_hex(report->head)}};
           std::cout << boost::json::serialize(o) << "\n";
         } else {
           fmt::print("ok: {} events, head {}\n", report->events, hash_hex(report->head));
         }
         return kExitOk;
       }});
}

}  // namespace fz::cli
