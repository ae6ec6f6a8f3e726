import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classifyAddress, parseImportSource, scrubSecrets } from "../../../src/core/import-source.js";

describe("parseImportSource", () => {
  it("sorts sources the way git does: URLs by scheme, host:path as ssh, the rest as local paths", () => {
    const kinds = Object.fromEntries(
      ["/srv/repo.git", "./repo", "repo", "file:///srv/repo.git", "git@github.com:me/r.git", "host:r.git", "ssh://host/r.git", "git+ssh://host/r.git", "http://host/r.git", "HTTPS://host/r.git", "git://host/r.git", "./a:b"].map((s) => [s, parseImportSource(s).kind]),
    );
    assert.deepEqual(kinds, {
      "/srv/repo.git": "local",
      "./repo": "local",
      repo: "local",
      "file:///srv/repo.git": "local",
      "git@github.com:me/r.git": "ssh",
      "host:r.git": "ssh",
      "ssh://host/r.git": "ssh",
      "git+ssh://host/r.git": "ssh",
      "http://host/r.git": "network",
      "HTTPS://host/r.git": "network",
      "git://host/r.git": "network",
      "./a:b": "local",
    });
  });

  it("reads the host of every IPv4 spelling WHATWG URL normalises, and the default port of each scheme", () => {
    for (const host of ["2130706433", "0x7f.1", "0177.0.0.1", "127.1", "0x7f000001"]) {
      const source = parseImportSource(`http://${host}/x.git`);
      assert.equal(source.kind === "network" && source.host, "127.0.0.1", host);
    }
    const v6 = parseImportSource("http://[::ffff:127.0.0.1]:8080/x");
    assert.deepEqual(v6.kind === "network" && [v6.host, v6.port], ["::ffff:7f00:1", 8080]);
    const ports = ["http://h/", "https://h/", "git://h/"].map((s) => {
      const source = parseImportSource(s);
      return source.kind === "network" ? source.port : 0;
    });
    assert.deepEqual(ports, [80, 443, 9418]);
  });

  it("shows every URL without its credentials, and remembers them to scrub", () => {
    const https = parseImportSource("https://user:s%40cret@host.example/r.git");
    assert.equal(https.display, "https://host.example/r.git");
    assert.deepEqual(https.kind === "network" && https.secrets, ["user", "s%40cret", "s@cret"]);
    assert.equal(parseImportSource("ssh://me:pw@host/r.git").display, "ssh://host/r.git");
    assert.equal(parseImportSource("me@host:r.git").display, "host:r.git");
    assert.equal(parseImportSource("file://me:pw@/srv/r.git").display, "file:///srv/r.git");
  });

  it("shows every URL without credential-like query parameters, and remembers their values to scrub", () => {
    const cases: Record<string, string> = {
      "https://h.example/r.git?access_token=abc123def": "https://h.example/r.git",
      "https://h.example/r.git?private_token=abc123def&ref=main": "https://h.example/r.git?ref=main",
      "https://h.example/r.git?ref=main&token=abc123def&depth=1": "https://h.example/r.git?ref=main&depth=1",
      "http://h.example/r.git?API_KEY=k&Client_Secret=s&password=p&passwd=p&pwd=p&auth=a&X-Amz-Credential=c&X-Amz-Signature=s&sig=s": "http://h.example/r.git",
      "https://u:pw@h.example/r.git?key=abc123def#frag": "https://h.example/r.git#frag",
      "git://h.example/r.git?secret=abc123def": "git://h.example/r.git",
      "ssh://me@h.example/r.git?token=abc123def": "ssh://h.example/r.git",
      "file:///srv/r.git?token=abc123def": "file:///srv/r.git",
      "https://h.example/r.git?v=1": "https://h.example/r.git?v=1",
    };
    assert.deepEqual(Object.fromEntries(Object.keys(cases).map((url) => [url, parseImportSource(url).display])), cases);
    const source = parseImportSource("https://h.example/r.git?access_token=s%2Bcret%3D1&ref=main");
    assert.deepEqual(source.kind === "network" && source.secrets, ["s%2Bcret%3D1", "s+cret=1"]);
  });

  it("never echoes a query credential of text it refuses", () => {
    assert.throws(() => parseImportSource("ftp://h.example/r.git?access_token=hunter2hunter2"), (err: Error) => !err.message.includes("hunter2") && err.message.includes("ftp://h.example/r.git"));
  });

  it("refuses options, transport helpers, control characters, other schemes and odd host names, without echoing credentials", () => {
    for (const text of ["", "  ", "--upload-pack=touch /tmp/x", "ext::sh -c id", "fd::3", "http::https://h/r", "/srv/r\u001b]0;x\u0007", "ftp://u:hunter2@h/r", "https://h%2fx/r", "git://h%41/r", "http://h./r", "http://[::1/r"]) {
      assert.throws(() => parseImportSource(text), (err: Error & { code?: string }) => err.code === "invalid" && !err.message.includes("hunter2") && !/[\u0000-\u001f]/.test(err.message), JSON.stringify(text));
    }
  });
});

describe("classifyAddress", () => {
  it("calls public only what routes to the internet, whatever the spelling", () => {
    const expected: Record<string, string> = {
      "8.8.8.8": "public",
      "93.184.216.34": "public",
      "2606:4700::1111": "public",
      "127.0.0.1": "loopback",
      "127.255.0.9": "loopback",
      "::1": "loopback",
      "::ffff:127.0.0.1": "loopback",
      "::ffff:7f00:1": "loopback",
      "::127.0.0.1": "loopback",
      "10.1.2.3": "private",
      "172.16.0.1": "private",
      "172.31.255.255": "private",
      "192.168.0.1": "private",
      "100.64.0.1": "private",
      "fc00::1": "private",
      "fd12:3456::1": "private",
      "::ffff:10.0.0.1": "private",
      "169.254.169.254": "link-local",
      "fe80::1": "link-local",
      "0.0.0.0": "unspecified",
      "::": "unspecified",
      "224.0.0.1": "special",
      "255.255.255.255": "special",
      "64:ff9b::7f00:1": "special",
      "2002:7f00:1::": "special",
      "192.0.2.1": "special",
      "not an address": "special",
    };
    assert.deepEqual(Object.fromEntries(Object.keys(expected).map((address) => [address, classifyAddress(address)])), expected);
  });
});

describe("scrubSecrets", () => {
  it("drops userinfo and credential-like query parameters from any URL in a message and blots out credentials found elsewhere", () => {
    assert.equal(scrubSecrets("fatal: unable to access 'https://bob:tok3n-123@h/r.git/': 403", ["bob", "tok3n-123"]), "fatal: unable to access 'https://h/r.git/': 403");
    assert.equal(scrubSecrets("password tok3n-123 rejected for bob", ["bob", "tok3n-123"]), "password *** rejected for bob");
    assert.equal(scrubSecrets("fatal: repository 'https://h/r.git?access_token=abc&ref=x/' not found", []), "fatal: repository 'https://h/r.git?ref=x/' not found");
    assert.equal(scrubSecrets("fatal: unable to access 'https://h/r.git?private_token=tok3n-123/': 401", []), "fatal: unable to access 'https://h/r.git': 401");
    assert.equal(scrubSecrets("is this a question? yes", []), "is this a question? yes");
  });
});
