#!/usr/bin/env python3
"""Writes the sample Taobao Union reports of examples/tbk/ and tests/data/tbk/ (SPEC section 10).

The reports are written the way the back end and Excel write them: the order report as UTF-16LE
tab-separated text with a BOM (Excel's "Unicode text"), the same rows as XLSX and as GB18030 comma CSV;
the refund report as UTF-8 CSV with a BOM. Run from the repository root; the output is committed, so the
build and the tests never need Python.
"""
import codecs
import zipfile
from xml.sax.saxutils import escape

ORDER_HEADER = ["创建时间", "付款时间", "结算时间", "订单编号", "子订单编号", "商品信息", "掌柜旺旺", "订单状态",
                "付款金额", "佣金比率", "佣金金额", "推广位ID", "渠道关系ID"]

# October: every status (new and old names), a closed order, an unmapped PID, a malformed amount,
# a merchant not in the map, a streamer found by its relation id.
OCTOBER = [
    ["2026-10-06 08:59:00", "2026-10-06 09:00:00", "", "900001", "9000011001", "夏季连衣裙 M码", "某某旗舰店", "已付款", "199.00", "20.00 %", "39.80", "111", ""],
    ["2026-10-06 10:00:00", "2026-10-06 10:01:00", "", "900002", "9000021002", "实木茶几", "小王家居", "已收货", "¥1,299.00", "9.10 %", "118.21", "222", ""],
    ["2026-10-07 11:00:00", "2026-10-07 11:00:30", "2026-10-20 10:00:00", "900003", "9000031003", "真丝围巾", "某某旗舰店", "已结算", "299.00", "20.00 %", "59.80", "111", ""],
    ["2026-10-07 12:00:00", "2026-10-07 12:00:10", "2026-10-21 09:00:00", "900004", "9000041004", "保温杯", "小王家居", "订单结算", "100.01", "9.10 %", "9.10", "333", "9001"],
    ["2026-10-08 20:00:00", "2026-10-08 20:00:05", "", "900005", "9000051005", "运动鞋 42码", "某某旗舰店", "已失效", "88.00", "20.00 %", "17.60", "111", ""],
    ["2026-10-09 21:00:00", "2026-10-09 21:00:20", "2026-10-25 10:00:00", "900006", "9000061006", "羊绒大衣", "某某旗舰店", "已结算", "500.00", "20.00 %", "100.00", "111", ""],
    ["2026-10-10 09:30:00", "2026-10-10 09:30:40", "2026-10-26 10:00:00", "900007", "9000071007", "蓝牙耳机", "小王家居", "订单结算", "59.90", "9.10 %", "5.45", "222", ""],
    ["2026-10-11 14:00:00", "2026-10-11 14:00:09", "", "900008", "9000081008", "口红礼盒", "某某旗舰店", "已付款", "129.00", "20.00 %", "25.80", "1234", ""],
    ["2026-10-12 15:00:00", "2026-10-12 15:00:01", "", "900009", "9000091009", "手机壳", "某某旗舰店", "已付款", "12.345", "20.00 %", "2.47", "111", ""],
    ["2026-10-13 16:00:00", "2026-10-13 16:00:30", "", "900010", "9000101010", "有机大米 5kg", "田园农庄", "订单付款", "66.60", "5.50 %", "3.66", "111", ""],
]

# November: the same orders later on. 1001 was settled, 1002 closed, 1010 received; the rest as before,
# without the two rows October rejected.
NOVEMBER = [list(r) for r in OCTOBER if r[4] not in ("9000081008", "9000091009")]
for r in NOVEMBER:
    if r[4] == "9000011001":
        r[2], r[7] = "2026-11-05 10:00:00", "已结算"
    if r[4] == "9000021002":
        r[2], r[7] = "2026-11-03 12:00:00", "已失效"
    if r[4] == "9000101010":
        r[7] = "订单成功"

REFUND_HEADER = ["维权编号", "订单编号", "淘宝子订单编号", "商品信息", "维权状态", "维权退款金额", "维权创建时间", "维权完成时间"]
REFUNDS = [
    ["5001", "900006", "9000061006", "羊绒大衣", "维权成功", "100.00", "2026-11-20 09:00:00", "2026-11-25 10:00:00"],
    ["5002", "900007", "9000071007", "蓝牙耳机", "维权成功", "59.90", "2026-11-21 09:00:00", "2026-11-26 10:00:00"],
    ["5003", "900003", "9000031003", "真丝围巾", "维权关闭", "299.00", "2026-11-22 09:00:00", "2026-11-23 10:00:00"],
    ["", "900004", "9000041004", "保温杯", "维权成功", "10.00", "2026-11-22 09:00:00", "2026-11-27 11:30:00"],
    ["5005", "900003", "9000031003", "真丝围巾", "处理中", "50.00", "2026-11-28 09:00:00", ""],
]

MAP = [["kind", "key", "id"], ["pid", "111", "s1"], ["pid", "222", "s2"], ["relation", "9001", "s3"],
       ["merchant", "某某旗舰店", "m1"], ["merchant", "小王家居", "m2"]]


def csv_text(rows, sep):
    def cell(c):
        if any(ch in c for ch in (sep, '"', "\n")):
            return '"' + c.replace('"', '""') + '"'
        return c
    return "".join(sep.join(cell(c) for c in r) + "\r\n" for r in rows)


def write_xlsx(path, rows, numeric_cols=()):
    strings, index = [], {}

    def sid(s):
        if s not in index:
            index[s] = len(strings)
            strings.append(s)
        return index[s]

    def col(i):
        name = ""
        i += 1
        while i:
            i, r = divmod(i - 1, 26)
            name = chr(65 + r) + name
        return name

    sheet_rows = []
    for n, r in enumerate(rows, start=1):
        cells = []
        for i, c in enumerate(r):
            ref = f"{col(i)}{n}"
            if c == "":
                continue
            if n > 1 and i in numeric_cols and c.replace(".", "", 1).isdigit():
                cells.append(f'<c r="{ref}"><v>{c}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="s"><v>{sid(c)}</v></c>')
        sheet_rows.append(f'<row r="{n}">' + "".join(cells) + "</row>")
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} {rns}><sheets><sheet name="订单明细" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData>' + "".join(sheet_rows) + "</sheetData></worksheet>",
        "xl/sharedStrings.xml": f'<?xml version="1.0" encoding="UTF-8"?><sst {ns} count="{len(strings)}" uniqueCount="{len(strings)}">' + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    october = [ORDER_HEADER] + OCTOBER
    # The back end's export starts with a title line before the header (the header is found by name).
    titled = [["淘宝联盟 推广订单明细 2026-10-01 至 2026-10-31"]] + october
    write("examples/tbk/orders-2026-10.csv", codecs.BOM_UTF16_LE + csv_text(titled, "\t").encode("utf-16-le"))
    write_xlsx("examples/tbk/orders-2026-10.xlsx", october, numeric_cols=(8,))
    write("examples/tbk/orders-2026-10-gb18030.csv", csv_text(october, ",").encode("gb18030"))
    write("examples/tbk/orders-2026-11.csv", codecs.BOM_UTF16_LE + csv_text([ORDER_HEADER] + NOVEMBER, "\t").encode("utf-16-le"))
    write("examples/tbk/refunds-2026-11.csv", codecs.BOM_UTF8 + csv_text([REFUND_HEADER] + REFUNDS, ",").encode("utf-8"))
    write("examples/tbk/map.csv", csv_text(MAP, ",").encode("utf-8"))
    # Tests: the valid October rows only, as UTF-8 text (the test converts it to the other encodings)
    # and as XLSX.
    clean = [ORDER_HEADER] + [r for r in OCTOBER if r[4] not in ("9000081008", "9000091009")]
    write("tests/data/tbk/orders-clean.csv", csv_text(clean, ",").encode("utf-8"))
    write_xlsx("tests/data/tbk/orders-clean.xlsx", clean, numeric_cols=(8,))


main()
