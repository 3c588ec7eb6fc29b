#!/usr/bin/env python3
"""Validate every PREMIS file of an E-ARK zip against the PREMIS 3.0 XML schema, and its
tt05-2025.xml against the schema the package ships for it (schemas/tt05-2025.xsd), with lxml.

The schema is the Library of Congress's own (tests/eark/premis-v3-0.xsd, copied unchanged from
github.com/LibraryOfCongress/premis-v3-0, file `xsd`, commit 3b79c30: the PREMIS Editorial
Committee's "Version 3.0" of January 18, 2016); eark-validator checks METS against its schema
but not the PREMIS files a METS points to. Offline: the schema imports nothing.

    xsd.py PACKAGE.zip

Prints one JSON object: {"checked": [names...], "errors": {name: [messages...]}}.
"""
import json
import os
import sys
import zipfile

from lxml import etree

HERE = os.path.dirname(os.path.abspath(__file__))
schema = etree.XMLSchema(etree.parse(os.path.join(HERE, "premis-v3-0.xsd")))
# No network, no entity expansion: a package's XML is outside input.
parser = etree.XMLParser(resolve_entities=False, no_network=True)

checked, errors = [], {}
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist():
        base = name.rsplit("/", 1)[-1]
        if "/metadata/preservation/" not in "/" + name or not (
            base.startswith("premis") and base.endswith(".xml")
        ):
            continue
        checked.append(name)
        doc = etree.fromstring(z.read(name), parser).getroottree()
        if not schema.validate(doc):
            errors[name] = [f"{e.line}: {e.message}" for e in schema.error_log][:20]
    # kyso's own descriptive file against the schema the package ships for it.
    for name in z.namelist():
        if not name.endswith("/metadata/descriptive/tt05-2025.xml"):
            continue
        xsd = name[: -len("metadata/descriptive/tt05-2025.xml")] + "schemas/tt05-2025.xsd"
        own = etree.XMLSchema(etree.fromstring(z.read(xsd), parser))
        checked.append(name)
        if not own.validate(etree.fromstring(z.read(name), parser).getroottree()):
            errors[name] = [f"{e.line}: {e.message}" for e in own.error_log][:20]
print(json.dumps({"checked": checked, "errors": errors}))
