from django import forms
from django.utils.translation import gettext_lazy as _

from consent.models import Choice
from consent.services import COMMENT_MAX_LENGTH, check_free_text


class AcknowledgeForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    understood = forms.BooleanField(
        required=True,
        error_messages={"required": _("Tick the box to confirm you have read that this is voluntary.")},
    )


class DecisionForm(forms.Form):
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

    def clean_comment(self):
        comment = self.cleaned_data["comment"]
        check_free_text(comment)
        return comment
