"""Validates Rampart's tokens with PyJWT, an implementation independent of
the Rust code that signs them.

usage: pyjwt_verify.py JWKS_FILE ISSUER < cases.json
cases: [{"name", "token", "audience"}] -> stdout {name: {"ok", "claims"|"error"}}

A token whose `kid` names a key of the JWKS is checked with that key only;
a token with an unknown `kid` is tried against every key of the JWKS, so a
rejection means no published key verifies it (not just a kid mismatch).
"""

import json
import sys

import jwt

REQUIRED = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        jwks = json.load(f)
    issuer = sys.argv[2]
    keys = {k["kid"]: jwt.PyJWK(k) for k in jwks["keys"]}
    results = {}
    for case in json.load(sys.stdin):
        token = case["token"]
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            candidates = [keys[kid]] if kid in keys else list(keys.values())
            error = None
            claims = None
            for key in candidates:
                try:
                    claims = jwt.decode(
                        token,
                        key,
                        algorithms=["RS256"],
                        audience=case["audience"],
                        issuer=issuer,
                        options={"require": REQUIRED},
                    )
                    break
                except jwt.InvalidSignatureError as e:
                    error = e
            if claims is None:
                raise error or jwt.InvalidSignatureError("no key")
            results[case["name"]] = {"ok": True, "claims": claims}
        except jwt.PyJWTError as e:
            results[case["name"]] = {"ok": False, "error": type(e).__name__}
    json.dump(results, sys.stdout)


def forge():
    """forge PEM_FILE KID: signs stdin's JSON claims with PEM_FILE under KID."""
    with open(sys.argv[2], encoding="utf-8") as f:
        pem = f.read()
    claims = json.load(sys.stdin)
    sys.stdout.write(
        jwt.encode(claims, pem, algorithm="RS256", headers={"kid": sys.argv[3]})
    )


if __name__ == "__main__":
    if sys.argv[1] == "forge":
        forge()
    else:
        main()
