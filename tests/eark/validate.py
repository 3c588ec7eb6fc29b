#!/usr/bin/env python3
"""Run eark-validator (PyPI, the E-ARK / DILCIS Board's validator) on a package, offline.

eark-validator 1.1 downloads four CSIP vocabularies from https://earkcsip.dilcis.eu/schema/ when
it starts; the package ships copies of the same files (eark_validator/ipxml/resources/vocabs).
With no network (the test machines have none), those requests are answered from the copies;
nothing else of the validator is touched. Prints the validator's JSON report.

    validate.py PACKAGE
"""
import sys
import urllib.request
from importlib.resources import files

_real_urlopen = urllib.request.urlopen
_PREFIX = "https://earkcsip.dilcis.eu/schema/"


def _urlopen(url, *args, **kwargs):
    u = getattr(url, "full_url", url)
    if isinstance(u, str) and u.startswith(_PREFIX):
        from eark_validator.ipxml.resources import vocabs
        return open(str(files(vocabs).joinpath(u[len(_PREFIX):])), "rb")
    return _real_urlopen(url, *args, **kwargs)


urllib.request.urlopen = _urlopen

from eark_validator.cli.app import main  # noqa: E402  (after the patch: it imports urlopen)

sys.argv = ["eark-validator", *sys.argv[1:]]
main()
