"""The package installs and exposes its version."""

import {{ cookiecutter.__package_name }}


def test_package_has_a_version():
    assert {{ cookiecutter.__package_name }}.__version__.count(".") == 2
