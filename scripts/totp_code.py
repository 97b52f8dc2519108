"""TOTP codes by an implementation independent of the portal's (pyotp), for the tests.

    totp_code.py SECRET_BASE32 [UNIX_TIME]   prints the code of that instant (default: now)
    totp_code.py --uri OTPAUTH_URI [UNIX_TIME]   the same, reading the secret, digits,
                                                  period and algorithm from the URI

The tests check the functions' codes against this one: a code the portal accepts must be
the one an authenticator app (which pyotp stands for) shows.
"""

import sys
import time

import pyotp


def main(argv):
    if len(argv) >= 2 and argv[0] == "--uri":
        otp = pyotp.parse_uri(argv[1])
        rest = argv[2:]
    elif len(argv) >= 1:
        otp = pyotp.TOTP(argv[0])
        rest = argv[1:]
    else:
        sys.exit(__doc__)
    at = int(rest[0]) if rest else int(time.time())
    print(otp.at(at))


if __name__ == "__main__":
    main(sys.argv[1:])
