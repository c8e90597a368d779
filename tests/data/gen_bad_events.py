#!/usr/bin/env python3
# Generates tests/data/bad_events.jsonl, the bad event corpus of tests/hardening/bad_input_test.cpp:
# one malformed or hostile event line per line, none blank (a blank line carries no event).
#   python3 tests/data/gen_bad_events.py tests/data/bad_events.jsonl
# tests/data/bad_events.expected holds the exact rejection of each line as `LINE: ID: reason`; it was
# written from the validator's output and every reason reviewed by hand. Append new cases at the end so
# that the line numbers of the old ones stay put. Cases that cannot be a committed text line (10 MB
# lines, raw NUL bytes, broken UTF-8) are generated inside the test instead.
import json, collections
AT = "2026-10-06T09:00:00+08:00"
B = collections.OrderedDict  # keep key order
base = {
 "agency.contracted": B(agency="a1"),
 "streamer.signed": B(streamer="s1", agency="a1"),
 "streamer.released": B(streamer="s1"),
 "payout.bound": B(party="streamer:s1", alipay="s1@alipay", verified=True),
 "plan.created": B(plan="p1", merchant="m1", kind="directed", rate="20%", approval="manual"),
 "plan.applied": B(plan="p1", streamer="s1"),
 "plan.approved": B(plan="p1", streamer="s1"),
 "plan.rejected": B(plan="p1", streamer="s1"),
 "order.paid": B(order="o1", merchant="m1", streamer="s1", plan="p1", amount="299.00", via_link=True),
 "order.confirmed": B(order="o1"),
 "order.refunded": B(order="o1", amount="10.00", case="c1"),
 "vtask.created": B(task="t1", merchant="m1", streamer="s1", kind="showcase", price="100.00"),
 "vtask.confirmed": B(task="t1"),
 "vtask.cancelled": B(task="t1"),
 "withdrawal.requested": B(party="streamer:s1", source="cps", amount="40.00"),
 "adjustment": B(**{"from": "@platform:fees", "to": "@agency:a1:cps", "amount": "1.50", "reason": "goodwill"}),
}
lines = []
n = [0]
def nid():
    n[0] += 1
    return "bad-%03d" % n[0]
NOID = object()
def ev(type_, id_=NOID, at=AT, drop=(), **over):
    o = B()
    o["id"] = id_ if id_ is not NOID else nid()
    o["type"] = type_
    o["at"] = at
    for k, v in base[type_].items():
        if k in drop: continue
        o[k] = v
    for k, v in over.items():
        o[k.rstrip("_")] = v
    return o
def add(obj_or_text):
    if isinstance(obj_or_text, str):
        lines.append(obj_or_text)
    else:
        lines.append(json.dumps(obj_or_text, separators=(",", ":"), ensure_ascii=False))
def raw(type_, text_fields, id_=None):
    # an event with hand-written JSON for the fields
    i = id_ if id_ is not None else nid()
    return '{"id":"%s","type":"%s","at":"%s",%s}' % (i, type_, AT, text_fields)

# --- JSON structure ---
add("{}")
add("[]")
add('[{"id":"x","type":"agency.contracted","at":"%s","agency":"a1"}]' % AT)
add('"agency.contracted"')
add("42")
add("null")
add("true")
add("{")
add('{"id":"x"')
add('{"id":')
add('{"id":"x",}')
add("{'id':'x'}")
add('{id:"x"}')
add('{"id":"x" /* comment */}')
add('{"id":"x"} // comment')
add('{"id":"x","amount":NaN}')
add('{"id":"x","amount":Infinity}')
add('{"id":"x","amount":01}')
add('{"id":"x","amount":-}')
add('{"id":"x","amount":1.}')
add('{"id":"x" "type":"agency.contracted"}')
add('{"id":"x",,"type":"agency.contracted"}')
add('{"id":"x\\q"}')
add('{"id":"\\ud800"}')
add('{"id":"\\udc00"}')
add('{"id":"\\u00zz"}')
add("\ufeff" + json.dumps(ev("agency.contracted"), separators=(",", ":")))
# trailing garbage after a complete, otherwise valid object
add(json.dumps(ev("agency.contracted"), separators=(",", ":")) + " x")
add(json.dumps(ev("agency.contracted"), separators=(",", ":")) + json.dumps(ev("agency.contracted"), separators=(",", ":")))
add(json.dumps(ev("agency.contracted"), separators=(",", ":")) + ",")
add(json.dumps(ev("agency.contracted"), separators=(",", ":")) + "}")
add(json.dumps(ev("agency.contracted"), separators=(",", ":")) + " null")
# deep nesting
add(raw("agency.contracted", '"agency":' + "[" * 9 + "]" * 9))
add(raw("agency.contracted", '"agency":"a1","meta":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":"x"}}}}}}}}'))
add("{\"id\":\"x\",\"junk\":" + "[" * 33000 + "]" * 33000 + "}")
add("[" * 50000)
add('{"a":' * 20 + "1" + "}" * 20)
# --- id ---
for v, in [("",), ("a b",), ("a:b",), ("x" * 129,), ("a\tb",), ("a\nb",), ("a\u0000b",), ("a\u0001",), ("\u001b[31m",), ("a\u007fb",), ("é",), ("订单1",), (" a",), ("a ",), (":",)]:
    add(ev("agency.contracted", id_=v))
for v in [7, None, True, [], {}, ["x"], 1.5]:
    add(ev("agency.contracted", id_=v))
add('{"type":"agency.contracted","at":"%s","agency":"a1"}' % AT)
# --- type ---
add('{"id":"%s","at":"%s","agency":"a1"}' % (nid(), AT))
for v in ["", "agency.hired", "Agency.Contracted", "agency.contracted ", "order", "order.paid.v2", 9, None, ["order.paid"]]:
    o = ev("agency.contracted"); o["type"] = v; add(o)
add(ev("agency.contracted", type_="x") if False else raw("rules.published", '"ruleset":"taobao_live","version":1,"effective":"%s","sha256":"%s","source":"ruleset x"' % (AT, "a" * 64)))
add('{"id":"%s","type":"rules.published","at":"%s"}' % (nid(), AT))
# --- at ---
for v in ["2026-13-01T10:00:00+08:00", "2026-02-30T10:00:00+08:00", "2026-02-29T10:00:00+08:00", "2026-04-31T10:00:00+08:00",
          "2026-00-10T10:00:00+08:00", "2026-10-00T10:00:00+08:00",
          "2026-10-06T24:00:00+08:00", "2026-10-06T10:60:00+08:00", "2026-10-06T10:00:60+08:00", "2016-12-31T23:59:60Z",
          "0000-01-01T00:00:00Z", "2026-10-06T10:00:00", "2026-10-06T10:00:00.1234567+08:00", "2026-10-06T10:00:00.+08:00",
          "2026-10-06T10:00:00+24:00", "2026-10-06T10:00:00+08:60", "2026-10-06T10:00:00+0800", "2026-10-06T10:00:00+08",
          "2026-10-06T10:00:00+08:00x", "2026-10-06T10:00:00 +08:00", "2026-10-06 10:00:00+08:00", "2026-10-06",
          "10000-01-01T00:00:00Z", "-2026-10-06T10:00:00Z", "2026-1-6T10:00:00Z", "2026/10/06T10:00:00Z", "", "now",
          "2026-10-06T10:00:00UTC", "2026-10-06T1O:00:00Z", "２０２６-10-06T10:00:00Z"]:
    add(ev("agency.contracted", at=v))
for v in [1790000000, None, True, {}, ["2026-10-06T10:00:00Z"]]:
    add(ev("agency.contracted", at=v))
add('{"id":"%s","type":"agency.contracted","agency":"a1"}' % nid())
# --- meta ---
for v in [["a"], "channel=live", 1, None, True]:
    add(ev("agency.contracted", meta=v))
for v in [1, 1.5, None, True, ["x"], {"y": "z"}]:
    add(ev("agency.contracted", meta={"k": v}))
add(raw("agency.contracted", '"agency":"a1","meta":{"k":"1","k":"2"}'))
add(raw("agency.contracted", '"agency":"a1","meta":{"a":"1"},"meta":{"b":"2"}'))
# --- repeated keys ---
add('{"id":"%s","id":"other","type":"agency.contracted","at":"%s","agency":"a1"}' % (nid(), AT))
add(raw("agency.contracted", '"agency":"a1","type":"agency.contracted"'))
add(raw("agency.contracted", '"agency":"a1","at":"%s"' % AT))
add(raw("agency.contracted", '"agency":"a1","agency":"a1"'))
add(raw("order.paid", '"order":"o1","merchant":"m1","streamer":"s1","plan":"p1","amount":"1.00","amount":"2.00","via_link":true'))
add(raw("payout.bound", '"party":"streamer:s1","alipay":"x","verified":true,"verified":false'))
# --- unknown fields ---
add(ev("agency.contracted", colour="red"))
add(ev("agency.contracted", Agency="a1"))
add(ev("agency.contracted", order="o1"))
add(ev("order.paid", rate="20%"))
add(ev("order.confirmed", amount="1.00"))
add(ev("plan.created", approvals="manual"))
add(ev("adjustment", rule="x"))
add(ev("withdrawal.requested", hash="00"))
add(ev("vtask.created", fee="1.00"))
add(ev("agency.contracted", **{"": "x"}))
# --- missing fields, every field of every type ---
for t, fields in base.items():
    for f in fields:
        if t == "plan.created" and f == "approval":
            continue
        add(ev(t, drop=(f,)))
add(ev("plan.created", drop=("approval",)))
add(ev("plan.created", kind="general"))
# --- wrong JSON types, every field kind ---
for t, f in [("agency.contracted", "agency"), ("order.paid", "order"), ("order.refunded", "case")]:
    for v in [7, None, True, {}, []]:
        add(ev(t, **{f: v}))
for v in [1, None, False, {"kind": "streamer"}, ["streamer", "s1"]]:
    add(ev("payout.bound", party=v))
for v in [5, None, [], {"a": 1}]:
    add(ev("adjustment", from_=v))
for v in [299, 299.0, 29900, -1, 1e3, None, True, {"fen": 29900}, ["299.00"]]:
    add(ev("order.paid", amount=v))
add(raw("order.paid", '"order":"o1","merchant":"m1","streamer":"s1","plan":"p1","amount":92233720368547758.07,"via_link":true'))
add(raw("order.paid", '"order":"o1","merchant":"m1","streamer":"s1","plan":"p1","amount":' + "9" * 400 + ',"via_link":true'))
add(raw("order.paid", '"order":"o1","merchant":"m1","streamer":"s1","plan":"p1","amount":1e999999,"via_link":true'))
for v in [20, 0.2, None, True]:
    add(ev("plan.created", rate=v))
for v in ["true", 1, 0, None, "yes", [True]]:
    add(ev("order.paid", via_link=v))
for v in [0, None, True, ["cps"]]:
    add(ev("withdrawal.requested", source=v))
for v in [1, None]:
    add(ev("adjustment", reason=v))
add(ev("payout.bound", alipay=12345678))
# --- money strings ---
for v in ["12.345", "0.001", "1.000", "92233720368547758.08", "92233720368547758.10", "92233720368547759", "100000000000000000",
          "-92233720368547758.09", "9" * 400, "", "-", "+1", " 1", "1 ", "1.", ".5", "1.2.3", "0x10", "1,000", "1e3", "1E3",
          "NaN", "Infinity", "--1", "1-", "１", "¥1", "1.5元", "0", "0.00", "-0.00", "-0.01", "-5", "-92233720368547758.08"]:
    add(ev("order.paid", amount=v))
add(ev("order.refunded", amount="0"))
add(ev("order.refunded", amount="1.001"))
add(ev("withdrawal.requested", amount="-40.00"))
add(ev("vtask.created", price="0.00"))
add(ev("vtask.created", price="100.005"))
add(ev("adjustment", amount="0"))
add(ev("adjustment", amount="92233720368547758.08"))
# --- percent ---
for v in ["20", "20%%", "%", "-5%", "+5%", "1.23456%", "20.%", ".5%", "1e2%", "20 %", " 20%", "abc%", "9999999999999%", "二十%", "20‰"]:
    add(ev("plan.created", rate=v))
# --- enums ---
add(ev("plan.created", kind="General"))
add(ev("plan.created", kind=""))
add(ev("plan.created", kind="directed ", approval="manual"))
add(ev("plan.created", approval="automatic"))
add(ev("plan.created", approval="Auto"))
add(ev("plan.created", kind="general", approval="auto"))
add(ev("vtask.created", kind="banner"))
add(ev("vtask.created", kind="Title"))
add(ev("withdrawal.requested", source="CPS"))
add(ev("withdrawal.requested", source="bank"))
# --- ids in fields ---
add(ev("agency.contracted", agency="a:1"))
add(ev("agency.contracted", agency="a 1"))
add(ev("agency.contracted", agency=""))
add(ev("agency.contracted", agency="a" * 129))
add(ev("streamer.signed", streamer="s\u0000"))
add(ev("plan.applied", plan="p\tq"))
add(ev("order.paid", merchant="商家"))
add(ev("order.refunded", case="c\u007f"))
add(ev("vtask.confirmed", task="t/1\u0085"))
# --- party ---
for v in ["streamer", "streamer:", ":s1", "merchant:m1", "platform:x", "Streamer:s1", "streamer: s1", "streamer:s1:cps", "agency:a 1", "streamer:" + "s" * 129, "", "@streamer:s1"]:
    add(ev("payout.bound", party=v))
add(ev("withdrawal.requested", party="payout:s1"))
# --- account ---
for v in ["platform:fees", "@", "@:", "@:a", "@a:", "@a::b", "@a b", "@a:b\n", "@中:x", "@a/b", "@a:b*", "", "@" + "a" * 256, "@a:" + "b" * 300, "@@a"]:
    add(ev("adjustment", from_=v))
add(ev("adjustment", to="@platform:fees"))
add(ev("adjustment", to="agency"))
# --- text ---
add(ev("adjustment", reason=""))
add(ev("payout.bound", alipay=""))
# --- empty / odd objects ---
add('{"":""}')
add('{"id":""}')
add('{"id":"x","type":"","at":""}')
add('{"meta":{}}')
# --- conflicts with stored events (base-1 agency a1, base-2 streamer s1 signed to a1) ---
add(ev("agency.contracted", id_="base-1", agency="a2"))
add(ev("agency.contracted", id_="base-1", at="2026-09-01T10:00:01+08:00"))
add(ev("streamer.signed", id_="base-2", at="2026-09-02T10:00:00+08:00", meta={"note": "x"}))
add(ev("order.confirmed", id_="base-3"))
# --- appended later: keep the line numbers above stable ---
# instants that would print outside years 0001-9999 in some offset
for v in ["9999-12-31T23:59:59-23:59", "9999-12-31T12:00:00Z", "0001-01-01T00:00:00+23:59", "0001-01-01T00:00:00Z"]:
    add(ev("agency.contracted", at=v))
import sys
out = open(sys.argv[1], "w", encoding="utf-8", newline="\n")
for l in lines:
    assert "\n" not in l and l.strip() != "", repr(l)
    out.write(l + "\n")
print(len(lines), file=sys.stderr)
