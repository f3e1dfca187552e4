from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from consent import wording
from consent.models import Choice, Complaint, Office
from consent.roster import ENCODING_CHOICES
from consent.services import (
    ACKNOWLEDGEMENT_MAX_LENGTH,
    COMMENT_MAX_LENGTH,
    EXPLANATION_TEXT_MAX_LENGTH,
    MESSAGE_MAX_LENGTH,
    NOTICE_BODY_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    check_free_text,
)


class RefusesMyNumber:
    """Free-text fields refused, each with its own message, if they hold a My Number."""

    free_text_fields = ()

    def clean(self):
        cleaned = super().clean()
        for name in self.free_text_fields:
            if name in cleaned:
                try:
                    check_free_text(cleaned[name])
                except forms.ValidationError as error:
                    self.add_error(name, error)
        return cleaned


class AcknowledgeForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    understood = forms.BooleanField(
        label=_("Confirmation"),
        required=True,
        error_messages={"required": _("Tick the box to confirm you have read that this is voluntary.")},
    )


class DecisionForm(RefusesMyNumber, forms.Form):
    free_text_fields = ("comment",)

    choice = forms.ChoiceField(
        label=_("Your decision"),
        choices=Choice.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose one of the three options."),
            "invalid_choice": _("Choose one of the three options."),
        },
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only you can see this. Never write your 12-digit individual number (My Number)."),
        error_messages={"max_length": _("The comment is too long (at most %(limit_value)d characters).")},
    )


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Roster file (CSV)"),
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
        help_text=_("One line per employee. Excel's 'CSV (comma delimited)' and 'CSV UTF-8' both work."),
        error_messages={"required": _("Choose a CSV file.")},
    )
    encoding = forms.ChoiceField(
        label=_("Character encoding"),
        required=False,
        choices=[("", _("Detect automatically")), *ENCODING_CHOICES],
    )


class QueueSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search by name or employee number"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )


class ExplanationVersionForm(RefusesMyNumber, forms.Form):
    free_text_fields = (
        "title_ja",
        "body_ja",
        "acknowledgement_ja",
        "title_en",
        "body_en",
        "acknowledgement_en",
    )

    title_ja = forms.CharField(label=_("Title (Japanese)"), max_length=TITLE_MAX_LENGTH)
    body_ja = forms.CharField(
        label=_("Text (Japanese)"),
        max_length=EXPLANATION_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 18}),
    )
    acknowledgement_ja = forms.CharField(
        label=_("Acknowledgement (Japanese)"),
        max_length=ACKNOWLEDGEMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    title_en = forms.CharField(label=_("Title (English)"), max_length=TITLE_MAX_LENGTH)
    body_en = forms.CharField(
        label=_("Text (English)"),
        max_length=EXPLANATION_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 18}),
    )
    acknowledgement_en = forms.CharField(
        label=_("Acknowledgement (English)"),
        max_length=ACKNOWLEDGEMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        missing = wording.missing_statements(cleaned)
        if missing and not self.errors:
            statements = wording.required_statements()
            raise forms.ValidationError(
                [
                    _("The %(language)s text no longer says that %(statement)s.")
                    % {
                        "language": _("Japanese") if lang == "ja" else _("English"),
                        "statement": statements[key]["label_ja" if get_language() == "ja" else "label_en"],
                    }
                    for key, lang in missing
                ],
                code="incomplete",
            )
        return cleaned


class NoticeForm(RefusesMyNumber, forms.Form):
    free_text_fields = ("title", "body")

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX_LENGTH)
    body = forms.CharField(
        label=_("Text"), max_length=NOTICE_BODY_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 8})
    )
    offices = forms.ModelMultipleChoiceField(
        label=_("Offices"),
        queryset=Office.objects.order_by("code"),
        # Codes, not primary keys: a huge number typed into the form would
        # overflow SQLite's integers instead of being a plain invalid choice.
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to address all staff. An office includes its sub-offices."),
    )
    accept_flagged = forms.BooleanField(
        label=_(
            "Publish anyway. I understand the notice will be marked for the union "
            "as possibly implying compulsion."
        ),
        required=False,
    )


class ComplaintForm(RefusesMyNumber, forms.Form):
    free_text_fields = ("details",)

    what = forms.ChoiceField(
        label=_("What happened?"),
        choices=Complaint.What.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what happened.")},
    )
    occurred_on = forms.DateField(
        label=_("When (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date such as 2026-06-15.")},
    )
    office = forms.ModelChoiceField(
        label=_("Where (optional)"),
        queryset=Office.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=_("Not given"),
    )
    involved_role = forms.ChoiceField(
        label=_("Who was involved?"),
        choices=Complaint.Role.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose who was involved.")},
    )
    details = forms.CharField(
        label=_("Tell us more"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=MESSAGE_MAX_LENGTH,
        help_text=_("Only the union reads this. Do not write your 12-digit individual number (My Number)."),
        error_messages={"required": _("Write a few words about what happened.")},
    )
    identity = forms.ChoiceField(
        label=_("Send it with your name, or anonymously?"),
        choices=[("named", _("With my name")), ("anonymous", _("Anonymously"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether to send it with your name or anonymously.")},
    )
    share_pseudonym = forms.BooleanField(
        # The union reads the decisions themselves (the chain hides each choice),
        # and keeps reading them for as long as the complaint exists.
        label=_(
            "Let the union see my decisions: each choice I have made or make later, with when and how "
            "(not my comments). Only with my name."
        ),
        required=False,
    )

    def __init__(self, *args, signed_in=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not signed_in:
            # Without an account there is no name to give: anonymous only.
            self.fields["identity"].choices = [("anonymous", _("Anonymously"))]
            self.fields["identity"].initial = "anonymous"
            del self.fields["share_pseudonym"]

    def clean_occurred_on(self):
        value = self.cleaned_data["occurred_on"]
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return value


class MessageForm(RefusesMyNumber, forms.Form):
    free_text_fields = ("body",)

    body = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=MESSAGE_MAX_LENGTH,
        error_messages={"required": _("Write a message first.")},
    )


class ReceiptCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Receipt code (16 digits)"),
        max_length=40,
        error_messages={"required": _("Enter your receipt code.")},
    )


class CheckpointUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Checkpoint file"),
        widget=forms.FileInput(attrs={"accept": ".txt,text/plain"}),
        error_messages={"required": _("Choose a checkpoint file.")},
    )


class WitnessKeyForm(forms.Form):
    vkey = forms.CharField(
        label=_("Witness key (the line in the .vkey file)"),
        max_length=500,
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
        error_messages={"required": _("Paste the witness key first.")},
    )


class CosignatureForm(forms.Form):
    size = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    line = forms.CharField(
        label=_("Cosignature line (what the cosign command printed)"),
        max_length=1000,
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
        error_messages={"required": _("Paste the cosignature line first.")},
    )
