"""Provisioning an account is one transaction: a refusal half-way leaves nothing behind."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from consent import services
from consent.models import Employee


@pytest.mark.parametrize("employee_number", ["has spaces!", "123456789018"])
def test_a_refused_employee_record_leaves_no_account_or_address(office, employee_number):
    with pytest.raises(ValidationError):
        services.provision_employee(
            email="new@example.jp", display_name="新人", employee_number=employee_number, office=office
        )
    assert not get_user_model().objects.filter(email__iexact="new@example.jp").exists()
    assert not EmailAddress.objects.filter(email="new@example.jp").exists()
    assert not Employee.objects.exists()
