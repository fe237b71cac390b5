#!/usr/bin/env python3
"""An independent Open311 GeoReport v2 client for `mcu serve` (stdlib urllib + jsonschema).

It knows nothing of the crate: only the spec's wire shapes and the schemas beside it. Every
JSON answer is validated against them; XML answers are parsed with ElementTree.

    client.py BASE_URL API_KEY submit
        files requests, checks errors, retries and reads; prints {"ids": [...]} last
    client.py BASE_URL API_KEY verify REPLIED_ID CLOSED_ID NOTE
        checks that REPLIED_ID carries NOTE in status_notes and is open, and that
        CLOSED_ID is closed

Exit status 0 only when every check passed; each failure is printed to stderr.
"""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "schemas")


def load_schema(name):
    """A schema with its `$ref`s to sibling files inlined (no resolver API differences).
    `requests.json` names the schema of that answer, kept as `requests.schema.json`."""
    with open(os.path.join(SCHEMAS, name[: -len(".json")] + ".schema.json"), encoding="utf-8") as f:
        schema = json.load(f)

    def inline(node):
        if isinstance(node, dict):
            if set(node) == {"$ref"} and node["$ref"].endswith(".json"):
                inner = load_schema(node["$ref"])
                inner.pop("$schema", None)
                return inner
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(schema)


FORMATS = jsonschema.FormatChecker()
CHECKS = {"passed": 0}


def validate(body, schema_name, what):
    jsonschema.validate(body, load_schema(schema_name), format_checker=FORMATS)
    CHECKS["passed"] += 1


def expect(cond, what):
    if not cond:
        raise AssertionError(what)
    CHECKS["passed"] += 1


class Api:
    def __init__(self, base, key):
        self.base = base.rstrip("/") + "/open311/v2/"
        self.key = key

    def call(self, method, path, params=None, key=True, body=None, headers=None):
        """(status, headers, text) of one call; `key` adds api_key."""
        params = list(params or [])
        if key:
            params.append(("api_key", self.key))
        url = self.base + path
        data = None
        hdrs = dict(headers or {})
        if method == "POST":
            data = body if body is not None else urllib.parse.urlencode(params).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif params:
            url += "?" + urllib.parse.urlencode(params)
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                return resp.status, resp.headers, resp.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode("utf-8")

    def json(self, method, path, schema, status=200, **kw):
        code, headers, text = self.call(method, path, **kw)
        expect(code == status, f"{method} {path}: status {code}, wanted {status}: {text}")
        expect(
            headers.get("Content-Type", "").startswith("application/json"),
            f"{method} {path}: content type {headers.get('Content-Type')}",
        )
        body = json.loads(text)
        validate(body, schema, f"{method} {path}")
        return body

    def error(self, method, path, status, **kw):
        body = self.json(method, path, "errors.json", status=status, **kw)
        expect(body[0]["code"] == status, f"{path}: error code {body[0]['code']}")
        return body[0]["description"]

    def xml(self, method, path, root, status=200, **kw):
        code, headers, text = self.call(method, path, **kw)
        expect(code == status, f"{method} {path}: status {code}, wanted {status}: {text}")
        expect(headers.get("Content-Type", "").startswith("text/xml"), f"{path}: xml type")
        doc = ET.fromstring(text.encode("utf-8"))
        expect(doc.tag == root, f"{path}: root <{doc.tag}>, wanted <{root}>")
        return doc


def submit(api):
    # Discovery and the catalogue: public, in both formats.
    d = api.json("GET", "discovery.json", "discovery.json", key=False)
    expect("application/json" in d["endpoints"][0]["formats"], "discovery formats")
    services = api.json("GET", "services.json", "services.json", key=False)
    codes = {s["service_code"]: s for s in services}
    expect("roads" in codes and "waste" in codes, f"service codes: {sorted(codes)}")
    expect(codes["roads"]["service_name"] == "Дороги", "roads is Дороги")
    expect(codes["roads"]["group"], "roads has a group")
    doc = api.xml("GET", "services.xml", "services", key=False)
    expect(len(doc.findall("service")) == len(services), "xml lists every service")
    api.json("GET", "services/roads.json", "service-definition.json", key=False)
    api.error("GET", "services/nope.json", 404, key=False)

    # Keys: none, unknown; refused in the spec's error shape and in XML too.
    api.error("GET", "requests.json", 401, key=False)
    bad = Api(api.base[: -len("/open311/v2/")], "mcu_not_a_key")
    bad.error("POST", "requests.json", 401, params=[("service_code", "roads")])
    err = api.xml("GET", "requests.xml", "errors", status=401, key=False)
    expect(err.find("error/code").text == "401", "xml error code")

    # Bad submissions: 400, nothing created.
    api.error("POST", "requests.json", 400, params=[("service_code", "roads"), ("description", "Нет места")])
    api.error(
        "POST",
        "requests.json",
        400,
        params=[("service_code", "unicorns"), ("lat", "45"), ("long", "38"), ("description", "x")],
    )
    api.error("POST", "requests.json", 400, params=[("service_code", "roads"), ("lat", "1e999"), ("long", "38"), ("description", "x")])

    # Two requests: one with coordinates, a photo link and an attribute; one by address.
    pothole = [
        ("service_code", "roads"),
        ("lat", "45.0355"),
        ("long", "38.9753"),
        ("description", "Глубокая яма у остановки \x1b[31m«Красная»\x1b[0m"),
        ("first_name", "Иван"),
        ("last_name", "Петров"),
        ("email", "ivan@example.ru"),
        ("phone", "+79001234567"),
        ("media_url", "https://portal.example/media/1.jpg"),
        ("attribute[depth]", "20 см"),
    ]
    created = api.json("POST", "requests.json", "request-response.json", params=pothole)
    first = created[0]["service_request_id"]
    expect(created[0]["service_notice"], "a service notice")
    # The same body again (a retry after a lost answer): the same request, not a second one.
    again = api.json("POST", "requests.json", "request-response.json", params=pothole)
    expect(again[0]["service_request_id"] == first, f"retry gave {again} for {first}")

    waste = [
        ("service_code", "waste"),
        ("address_string", "ул. Северная, 310"),
        ("description", "Контейнеры переполнены <третий день> & никто не вывозит"),
    ]
    doc = api.xml("POST", "requests.xml", "service_requests", params=waste)
    second = doc.find("request/service_request_id").text
    expect(second and second != first, f"second id {second}")

    # With an Idempotency-Key the key decides: a retry is the same one; the same key with
    # another report is refused (422), never answered with the first one's number.
    keyed = [("service_code", "urban"), ("address_string", "сквер Дружбы"), ("description", "Сломана скамейка")]
    hdr = {"Idempotency-Key": "portal-form-42"}
    third = api.json("POST", "requests.json", "request-response.json", params=keyed, headers=hdr)
    third = third[0]["service_request_id"]
    again = api.json("POST", "requests.json", "request-response.json", params=keyed, headers=hdr)
    expect(again[0]["service_request_id"] == third, f"keyed retry gave {again} for {third}")
    expect(third not in (first, second), f"third id {third}")
    keyed[2] = ("description", "Сломана скамейка у фонтана")
    api.error("POST", "requests.json", 422, params=keyed, headers=hdr)

    # Read back: one by id, both by list, filters.
    one = api.json("GET", f"requests/{first}.json", "requests.json")
    r = one[0]
    expect(r["service_request_id"] == first, "the id read back")
    expect(r["status"] == "open" and r["status_notes"] is None, f"new request: {r}")
    expect(r["service_code"] == "roads" and r["service_name"] == "Дороги", f"service: {r}")
    expect("\x1b" not in r["description"] and "«Красная»" in r["description"], r["description"])
    expect(abs(r["lat"] - 45.0355) < 1e-9 and abs(r["long"] - 38.9753) < 1e-9, "coordinates")
    expect(r["media_url"] == "https://portal.example/media/1.jpg", "media_url")
    expect(r["agency_responsible"], "a department")
    expect(r["requested_datetime"].endswith("+03:00"), r["requested_datetime"])
    listed = api.json(
        "GET", "requests.json", "requests.json", params=[("service_request_id", f"{first},{second}")]
    )
    expect({x["service_request_id"] for x in listed} == {first, second}, f"listed {listed}")
    by_code = api.json("GET", "requests.json", "requests.json", params=[("service_code", "waste")])
    expect([x["service_request_id"] for x in by_code] == [second], f"waste: {by_code}")
    recent = api.json("GET", "requests.json", "requests.json")
    expect({first, second} <= {x["service_request_id"] for x in recent}, "default window")
    api.json("GET", "requests.json", "requests.json", params=[("start_date", "2020-01-01T00:00:00Z"), ("end_date", "2020-02-01T00:00:00+03:00")])
    api.error("GET", "requests.json", 400, params=[("start_date", "2020-01-01"), ("end_date", "2021-01-01")])
    api.error("GET", "requests/2026-999999.json", 404)
    x = api.xml("GET", f"requests/{second}.xml", "service_requests")
    expect(x.find("request/address").text == "ул. Северная, 310", "xml address")
    expect("<третий день> &" in x.find("request/description").text, "xml escaping round trip")
    return {"ids": [first, second, third]}


def verify(api, replied, closed, note):
    r = api.json("GET", f"requests/{replied}.json", "requests.json")[0]
    expect(r["status_notes"] == note, f"status_notes {r['status_notes']!r}, wanted {note!r}")
    expect(r["status"] == "open", f"replied request is {r['status']}")
    c = api.json("GET", f"requests/{closed}.json", "requests.json")[0]
    expect(c["status"] == "closed", f"closed request is {c['status']}")
    expect(c["updated_datetime"] is not None, "closed has updated_datetime")
    closed_list = api.json("GET", "requests.json", "requests.json", params=[("status", "closed")])
    expect([x["service_request_id"] for x in closed_list] == [closed], f"closed: {closed_list}")
    open_list = api.json("GET", "requests.json", "requests.json", params=[("status", "open")])
    expect(closed not in [x["service_request_id"] for x in open_list], "open filter")
    x = api.xml("GET", f"requests/{replied}.xml", "service_requests")
    expect(x.find("request/status_notes").text == note, "xml status_notes")
    return {"verified": [replied, closed]}


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    api = Api(argv[1], argv[2])
    try:
        if argv[3] == "submit":
            out = submit(api)
        elif argv[3] == "verify" and len(argv) == 7:
            out = verify(api, argv[4], argv[5], argv[6])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (AssertionError, jsonschema.ValidationError) as e:
        print(f"FAILED after {CHECKS['passed']} checks: {e}", file=sys.stderr)
        return 1
    out["checks"] = CHECKS["passed"]
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
