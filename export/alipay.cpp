// The Alipay batch upload file of `fenzhang payout alipay` (SPEC section 10): GBK CSV.
#include <iconv.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "export/export.hpp"

namespace fz::exports {
namespace {

constexpr std::string_view kTitleRow = "支付宝批量付款文件模板";
constexpr std::string_view kHeaderRow = "序号,收款方支付宝账号,收款方姓名,金额,备注";

// RFC 4180 quoting of a cell that holds a comma, a quote or a line break.
std::string cell(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

Result<std::string> utf8_to_gbk(std::string_view utf8) {
  iconv_t cd = ::iconv_open("GBK", "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return make_error(fmt::format("iconv cannot convert to GBK: {}", std::strerror(errno)));
  }
  std::string out(utf8.size() * 2 + 8, '\0');
  char* in = const_cast<char*>(utf8.data());  // iconv's signature; it does not write the input
  std::size_t in_left = utf8.size();
  char* dst = out.data();
  std::size_t out_left = out.size();
  const std::size_t rc = ::iconv(cd, &in, &in_left, &dst, &out_left);
  const int err = errno;
  ::iconv_close(cd);
  if (rc == static_cast<std::size_t>(-1)) {
    const std::size_t at = utf8.size() - in_left;
    std::size_t len = 1;
    while (at + len < utf8.size() && (static_cast<unsigned char>(utf8[at + len]) & 0xC0) == 0x80) ++len;
    return make_error(fmt::format("\"{}\" cannot be written in GBK ({})", utf8.substr(at, len),
                                  err == EILSEQ ? "no such character" : std::strerror(err)));
  }
  out.resize(out.size() - out_left);
  return out;
}

Result<std::vector<std::string>> alipay_batch_files(const std::vector<AlipayRow>& rows) {
  std::vector<std::string> files;
  for (std::size_t first = 0; first < rows.size() || files.empty(); first += kAlipayRowsPerFile) {
    std::string text = fmt::format("{}\r\n{}\r\n", kTitleRow, kHeaderRow);
    const std::size_t end = std::min(rows.size(), first + kAlipayRowsPerFile);
    for (std::size_t i = first; i < end; ++i) {
      const AlipayRow& r = rows[i];
      text += fmt::format("{},{},{},{},{}\r\n", i - first + 1, cell(r.alipay), cell(r.name),
                          format_money(r.amount_fen), cell(r.remark));
    }
    auto gbk = utf8_to_gbk(text);
    if (!gbk) return gbk.error();
    files.push_back(std::move(*gbk));
    if (rows.empty()) break;
  }
  return files;
}

}  // namespace fz::exports
