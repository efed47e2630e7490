from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse

from dangjian.core.forms import BootstrapFormMixin, DateInput, OrgPickerInput, ScopedCodeField
from dangjian.core.validators import normalize_id_number, parse_id_number
from dangjian.members.lookups import LookupLimitExceeded, id_number_check
from dangjian.members.models import Member, PartyPost, Status
from dangjian.orgs.models import Organization


class MemberForm(BootstrapFormMixin, forms.ModelForm):
    """Create or edit a member. The organization is named by code and resolved inside the user's
    editable scope; the rules of Member.clean run on every save. The hidden version lets the service
    refuse a save made on an outdated copy.

    A new (or changed) ID number is checked against the registry for `user`, counted against their daily
    lookups (members.lookups): a number held by a member they can see gets the precise duplicate message, one
    held outside their scope only the neutral UNREGISTRABLE_ID_MESSAGE. The model's own uniqueness check, which
    knows no scope, is left out; the service checks again, with the same two messages, when saving."""

    organization = ScopedCodeField(label="所在党组织")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Member
        fields = [
            "name",
            "gender",
            "ethnicity",
            "birth_date",
            "id_number",
            "phone",
            "education",
            "join_date",
            "full_date",
            "category",
            "organization",
            "is_leadership",
            "is_district_cadre",
        ]
        widgets = {
            "birth_date": DateInput(),
            "join_date": DateInput(),
            "full_date": DateInput(),
            "id_number": forms.TextInput(attrs={"autocomplete": "off", "maxlength": 22}),
            # Stored encrypted (a text column): still one line, as typed.
            "phone": forms.TextInput(attrs={"inputmode": "tel", "maxlength": 20}),
        }

    def __init__(self, *args, org_queryset, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["organization"].queryset = org_queryset
        if self.instance.pk:
            # Editing never shows the full number (masked by default; a full view is a separate, audited
            # action). Left blank, the number stays as it is.
            field = self.fields["id_number"]
            field.required = False
            field.widget.attrs["placeholder"] = self.instance.masked_id_number
            field.help_text = "不修改请留空。"
            self.initial["id_number"] = ""
            self.initial["version"] = self.instance.version

    def clean_id_number(self):
        number = normalize_id_number(self.cleaned_data.get("id_number") or "")
        if not number and self.instance.pk:
            return self.instance.id_number
        if number and not (self.instance.pk and number == self.instance.id_number):
            self._check_registry(number)
        return number

    def _check_registry(self, number: str) -> None:
        try:
            parse_id_number(number)
        except ValidationError:
            return  # not a valid number: Member.clean says why, nothing is looked up
        try:
            message = id_number_check(by=self.user, number=number, exclude_pk=self.instance.pk)
        except LookupLimitExceeded as exc:
            raise ValidationError(str(exc)) from None
        if message:
            raise ValidationError(message)

    def validate_unique(self):
        """The model's unique checks but the ID number's (see the class docstring)."""
        try:
            self.instance.validate_unique(exclude=self._get_validation_exclusions() | {"id_number"})
        except ValidationError as exc:
            self._update_errors(exc)


class MemberStatusForm(BootstrapFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    status = forms.ChoiceField(label="新的党籍状态", choices=Status.choices)
    on = forms.DateField(label="变更日期", widget=DateInput())
    reason = forms.CharField(label="变更原因", max_length=100)


class PartyPostForm(BootstrapFormMixin, forms.ModelForm):
    organization = ScopedCodeField(label="任职党组织")

    class Meta:
        model = PartyPost
        fields = ["organization", "post", "start_date", "end_date"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}

    def __init__(self, *args, org_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = org_queryset


class PartyPostEndForm(BootstrapFormMixin, forms.Form):
    """结束任职 (离任): the day the post ended."""

    end_date = forms.DateField(label="离任日期", widget=DateInput(), error_messages={"required": "请填写离任日期。"})


class MakeFullForm(BootstrapFormMixin, forms.Form):
    """预备党员转正."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    full_date = forms.DateField(label="转正日期", widget=DateInput())
    reason = forms.CharField(label="说明", max_length=100, required=False)


class AnyOrganizationCodeField(forms.CharField):
    """The receiving organization of a transfer, named by its code: any organization of the system, since
    the sending side need not see it. Only its name is ever shown back."""

    def __init__(self, **kwargs):
        # A code, or the picker's "名称（编码）" when the page runs without script.
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def clean(self, value):
        code = super().clean(value)
        if not code:
            return None
        code = code.strip()
        if code.endswith("）") and "（" in code:
            code = code[code.rindex("（") + 1 : -1]
        # A bypass of the scope, on purpose: the receiver lies anywhere in the system.
        org = Organization.objects.dangerously_all().filter(code=code.strip()).first()
        if org is None:
            raise ValidationError("找不到党组织编码“%(code)s”。", params={"code": code})
        return org


class ReceivingOrgPickerInput(OrgPickerInput):
    """The organization picker over every organization of the system (`orgs:pick_receiving`): the receiving branch
    of a transfer usually lies outside the sender's view."""

    queryset = Organization.objects.dangerously_all()

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["data-org-picker"] = reverse("orgs:pick_receiving")
        return context


class TransferStartForm(BootstrapFormMixin, forms.Form):
    """系统内转接: the sending side chooses the receiving branch with the picker (by name or code; a code typed in
    works without script)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    to_organization = AnyOrganizationCodeField(
        label="接收党组织",
        help_text="输入名称或编码搜索；接收方须为党支部、联合党支部或临时党支部。",
        widget=ReceivingOrgPickerInput,
    )
    letter_number = forms.CharField(label="介绍信编号", max_length=50, required=False)


class TransferReturnForm(BootstrapFormMixin, forms.Form):
    transfer = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(label="退回原因", max_length=200)


class TransferOutForm(BootstrapFormMixin, forms.Form):
    """转出系统外: the destination and the introduction letter; the member's status becomes 转出."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    external_organization = forms.CharField(label="转往党组织", max_length=200)
    letter_number = forms.CharField(label="介绍信编号", max_length=50)
    transfer_date = forms.DateField(label="转出日期", widget=DateInput())


class IncomingMemberForm(MemberForm):
    """从系统外转入: a new member's record, with where their relationship comes from and the letter."""

    external_organization = forms.CharField(label="原所在党组织", max_length=200)
    letter_number = forms.CharField(label="介绍信编号", max_length=50)
    transfer_date = forms.DateField(label="转入日期", widget=DateInput())

    field_order = ["external_organization", "letter_number", "transfer_date"]
