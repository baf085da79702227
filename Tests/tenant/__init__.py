"""The pack on a real Cortex XSOAR / XSIAM tenant, through demisto-py: upload, configure, test, run, status.

    python3 -m Tests tenant upload | configure | test | run | status | demo

`cli` is the command line, `manifest` checks an instance's values against the integration's manifest, `instance`
builds the instance document from what the tenant reports, `client` talks to the tenant (demisto-py) and says what to
check when it fails, `render` shows war-room entries as text, `packaging` builds the zip. `fake_tenant` is a fake of
exactly the endpoints used, whose engine (`engine`) runs the uploaded integration through Tests/platform_run.py.
"""
