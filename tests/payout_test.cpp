// Issue 15 part A: `fenzhang payout alipay` (SPEC section 10) through the binary, on the shipped sample
// ledger at the settlement day: exactly the verified streamers with available CPS money are paid, the
// batch file (GBK, decoded here with the test's own iconv) holds what the rules paid out to @payout:…,
// a rerun appends nothing and writes the same bytes, skipped parties are named, and more than 3,000
// parties split the file.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <iconv.h>
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/test_util.hpp"

using fz::test::run;
using fz::test::RunResult;
using fz::test::TempDir;

namespace {

using fz::test::read_all;
using fz::test::write_file;

// GBK -> UTF-8 with iconv: the test's own decoding of the batch file.
std::string from_gbk(const std::string& gbk) {
  iconv_t cd = ::iconv_open("UTF-8", "GBK");
  REQUIRE(cd != reinterpret_cast<iconv_t>(-1));
  std::string out(gbk.size() * 2 + 16, '\0');
  char* in = const_cast<char*>(gbk.data());
  std::size_t in_left = gbk.size(), out_left = out.size();
  char* dst = out.data();
  REQUIRE(::iconv(cd, &in, &in_left, &dst, &out_left) != static_cast<std::size_t>(-1));
  ::iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

std::string src(const std::string& rel) {
  return fz::test::source_dir() + "/" + rel;
}

struct Ledger {
  TempDir dir;
  std::string db = dir / "db";
  RunResult operator()(const std::string& args) const {
    return run(fmt::format("{} --db {} {}", fz::test::bin(), db, args));
  }
  void must(const std::string& args) const {
    const RunResult r = (*this)(args);
    INFO(args, "\n", r.out);
    REQUIRE(r.exit_code == 0);
  }
  void append_text(const std::string& name, const std::string& text) const {
    write_file(dir / name, text);
    must("append " + (dir / name));
  }
  // The amount of the postings of one event to @payout: accounts, from the journal.
  std::string paid_by(const std::string& event_id) const {
    const RunResult r = (*this)("--format json journal --event " + event_id);
    REQUIRE(r.exit_code == 0);
    std::istringstream in(r.out);
    std::string paid;
    for (std::string line; std::getline(in, line);) {
      const auto p = boost::json::parse(line).as_object();
      if (std::string(p.at("account").as_string()).starts_with("@payout:"))
        paid = p.at("amount").as_string().c_str();
    }
    return paid;
  }
  std::string events() const { return (*this)("verify").out.substr(0, 12); }
};

// The sample, s1's binding again with the account holder's name, s3 bound but not verified, s2 verified
// without money.
void sample(const Ledger& l) {
  l.must("rules publish " + src("rules/taobao-live.rules"));
  l.must("append " + src("examples/taobao-live-sample.jsonl"));
  l.append_text(
      "bind.jsonl",
      R"({"id":"bind-s1","type":"payout.bound","at":"2026-12-01T10:00:00+08:00","party":"streamer:s1","alipay":"s1-alipay@example.com","verified":true,"name":"张三"}
{"id":"bind-s3","type":"payout.bound","at":"2026-12-01T10:00:00+08:00","party":"streamer:s3","alipay":"s3@example.com","verified":false,"name":"李四"}
{"id":"bind-s2","type":"payout.bound","at":"2026-12-01T10:00:00+08:00","party":"streamer:s2","alipay":"s2@example.com","verified":true,"name":"王五"}
)");
}

constexpr const char* kPayout = "payout alipay --kind streamer --source cps --at 2026-12-20";

}  // namespace

TEST_CASE("payout alipay on the sample at the settlement day pays s1 what the rules paid out") {
  Ledger l;
  sample(l);
  const std::string out = l.dir / "batch.csv";
  const RunResult r = l(std::string(kPayout) + " --out " + out);
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  const std::string id = "payout-streamer-s1-cps-20261220000000";
  // s1: 47.84 + 16.00 earned, 40.00 withdrawn, 16.00 clawed back: 7.84, fee round(7.84 x 10% / 80%) = 0.98.
  const std::string paid = l.paid_by(id);
  CHECK(paid == "6.86");
  CHECK(r.out.find("appended 1, duplicates 0, rejected 0") != std::string::npos);
  CHECK(r.out.find("payout streamer cps at 2026-12-20T00:00:00+08:00: 1 party, withdrawn 7.84, paid 6.86, "
                   "fees 0.98") != std::string::npos);
  CHECK(r.out.find("skipped streamer:s3: Alipay binding not verified") != std::string::npos);
  CHECK(r.out.find("skipped streamer:s2: available 0.00 is below the minimum 1.00") != std::string::npos);
  const std::string bytes = read_all(out);
  CHECK(from_gbk(bytes) ==
        "支付宝批量付款文件模板\r\n序号,收款方支付宝账号,收款方姓名,金额,备注\r\n1,s1-alipay@example.com,"
        "张三," +
            paid + "," + id + "\r\n");
  CHECK(bytes.find("\xd5\xc5\xc8\xfd") != std::string::npos);  // 张三 in GBK
  CHECK_FALSE(std::filesystem::exists(out + ".2"));

  // Rerun: nothing appended, the same bytes.
  const std::string before = l.events();
  std::filesystem::remove(out);
  const RunResult again = l(std::string(kPayout) + " --out " + out);
  INFO(again.out);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("appended 0, duplicates 1, rejected 0") != std::string::npos);
  CHECK(read_all(out) == bytes);
  CHECK(l.events() == before);
}

TEST_CASE("payout alipay --format json prints one JSON object, the append's summary with the payout's") {
  Ledger l;
  sample(l);
  const std::string out = l.dir / "batch.csv";
  for (const char* run : {"first", "rerun"}) {
    CAPTURE(run);
    const RunResult r = l(std::string("--format json ") + kPayout + " --out " + out);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    REQUIRE(!r.out.empty());
    CHECK(r.out.find('\n') == r.out.size() - 1);  // one line: one document, not two
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(r.out, ec);
    REQUIRE_FALSE(ec);
    const boost::json::object& o = v.as_object();
    const bool first = std::string_view(run) == "first";
    CHECK(o.at("appended").as_int64() == (first ? 1 : 0));
    CHECK(o.at("duplicates").as_int64() == (first ? 0 : 1));
    CHECK(o.at("rejected").as_int64() == 0);
    const boost::json::object& p = o.at("payout").as_object();
    CHECK(p.at("parties").as_int64() == 1);
    CHECK(p.at("withdrawn").as_string() == "7.84");
    CHECK(p.at("paid").as_string() == "6.86");
    CHECK(p.at("fees").as_string() == "0.98");
    CHECK(p.at("files").as_array().size() == 1);
  }
}

TEST_CASE("payout alipay --dry-run prints the withdrawals and writes nothing") {
  Ledger l;
  sample(l);
  const std::string before = l.events();
  const RunResult r = l(std::string(kPayout) + " --out " + (l.dir / "x.csv") + " --dry-run");
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(
      r.out.find(
          R"({"id":"payout-streamer-s1-cps-20261220000000","type":"withdrawal.requested","at":"2026-12-20T00:00:00+08:00","party":"streamer:s1","source":"cps","amount":"7.84"})") !=
      std::string::npos);
  // The withdrawal went through the engine: what the rules would pay after the platform's fee, as the
  // real run pays it (6.86 of 7.84, the test above).
  CHECK(r.out.find("would pay streamer:s1: 6.86 (withdrawn 7.84, fees 0.98)") != std::string::npos);
  CHECK(r.out.find("dry run: payout streamer cps at 2026-12-20T00:00:00+08:00: 1 party, withdrawn 7.84, paid "
                   "6.86, fees 0.98, rejected 0 (nothing written)") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(l.dir / "x.csv"));
  CHECK(l.events() == before);
  // A binding without a name is skipped (Alipay checks the holder's name), and so is a higher minimum.
  CHECK(l(std::string(kPayout) + " --min 8.00 --dry-run")
            .out.find("skipped streamer:s1: available 7.84 is below the minimum 8.00") != std::string::npos);
  CHECK(l("payout alipay --kind streamer --source cps --at 2026-12-20 --min 0.00 --dry-run").exit_code == 2);
  CHECK(l("payout alipay --kind streamer --source cps --at 2026-12-20").exit_code == 2);  // no --out
  CHECK(l("payout alipay --kind shop --source cps --at 2026-12-20 --out x").exit_code == 2);
}

TEST_CASE("payout alipay: a party without a name is skipped and more than 3000 parties split the file") {
  Ledger l;
  l.must("rules publish " + src("rules/taobao-live.rules"));
  constexpr int kParties = 3001;
  std::string events;
  for (int i = 1; i <= kParties; ++i) {
    events += fmt::format(
        R"({{"id":"b{}","type":"payout.bound","at":"2026-11-01T10:00:00+08:00","party":"streamer:p{}","alipay":"p{}@example.com","verified":true,"name":"测试{}"}})"
        "\n"
        R"({{"id":"adj{}","type":"adjustment","at":"2026-11-01T10:00:00+08:00","from":"@merchant:m1:cps","to":"@streamer:p{}:cps","amount":"2.00","reason":"test"}})"
        "\n",
        i, i, i, i, i, i);
  }
  events +=
      R"({"id":"b-noname","type":"payout.bound","at":"2026-11-01T10:00:00+08:00","party":"streamer:q","alipay":"q@example.com","verified":true})"
      "\n"
      R"({"id":"adj-q","type":"adjustment","at":"2026-11-01T10:00:00+08:00","from":"@merchant:m1:cps","to":"@streamer:q:cps","amount":"2.00","reason":"test"})"
      "\n"
      R"({"id":"adj-r","type":"adjustment","at":"2026-11-01T10:00:00+08:00","from":"@merchant:m1:cps","to":"@streamer:r:cps","amount":"2.00","reason":"test"})"
      "\n";
  l.append_text("parties.jsonl", events);
  const std::string out = l.dir / "batch.csv";
  const RunResult r = l(std::string(kPayout) + " --out " + out);
  INFO(r.out.substr(0, 2000));
  REQUIRE(r.exit_code == 0);
  // Each: 2.00 withdrawn, fee 0.25, 1.75 paid.
  CHECK(r.out.find("3001 parties, withdrawn 6002.00, paid 5251.75, fees 750.25") != std::string::npos);
  CHECK(r.out.find("skipped streamer:q: no name in its payout.bound") != std::string::npos);
  CHECK(r.out.find("skipped streamer:r: no Alipay account bound") != std::string::npos);
  const std::string first = from_gbk(read_all(out)), second = from_gbk(read_all(out + ".2"));
  CHECK(std::count(first.begin(), first.end(), '\n') == 3002);
  CHECK(first.find("\r\n3000,") != std::string::npos);
  CHECK(second ==
        "支付宝批量付款文件模板\r\n序号,收款方支付宝账号,收款方姓名,金额,备注\r\n1,p999@example.com,测试999,"
        "1.75,"
        "payout-streamer-p999-cps-20261220000000\r\n");
  CHECK_FALSE(std::filesystem::exists(out + ".3"));
}
