from setuptools import find_namespace_packages, setup

requires = [
    "pyramid>=2.0,<3",
    "cornice>=6,<7",
    "colander>=2",
    "waitress>=3",
    "argon2-cffi>=21",
    "prometheus-client>=0.17",
    "websockets>=13",
    "libvirt-python",
    "PyYAML>=6",
    # The answers clients poll (GET /vm, /vm/<uuid>, /fleet), encoded several times faster
    "orjson>=3.9",
    # Pyramid and Cornice still import pkg_resources, which setuptools 81 removes.
    "setuptools<81",
]

testing_requires = [
    "WebTest>=3",
    "pytest>=8",
    # tests/browser/: drives Debian's Chromium (never a browser Playwright downloads itself)
    "playwright",
    # examples/portal.ini and tests/test_mounting.py: a Paste composite (egg:rutter#urlmap)
    "rutter>=1.0",
    # tests/contract.py: every answer of the tests against the generated OpenAPI document
    "jsonschema>=4.18",
    # ... and its "date-time" format checked, as schemathesis checks it
    "rfc3339-validator",
    # tests/fuzz/: schemathesis over every operation of the document, as each demo user
    "schemathesis>=4.32,<5",
]

setup(
    name="virtdancer",
    version="0.1.0",
    description="Manage libvirt virtual machines from a browser or through a REST API",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    # Namespace discovery, so that the data folders (demo/, static/) are packages too.
    packages=find_namespace_packages(include=["virtdancer", "virtdancer.*"]),
    package_data={"virtdancer.demo": ["*.xml", "*.ini"], "virtdancer.static": ["**/*"]},
    zip_safe=False,
    install_requires=requires,
    extras_require={"testing": testing_requires},
    entry_points={
        "paste.app_factory": ["main = virtdancer:main"],
        "paste.filter_app_factory": ["accesslog = virtdancer.accesslog:filter_app_factory"],
        "paste.server_runner": ["waitress = virtdancer.server:serve"],
        "console_scripts": ["virtdancer = virtdancer.cli:main"],
    },
)
