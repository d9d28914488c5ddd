from django import forms
from django.core.files.uploadedfile import UploadedFile

from questionnaires.lensfile import MAX_FILE_BYTES


class LensUploadForm(forms.Form):
    file = forms.FileField(
        label="Lens file",
        help_text=(
            "A custom lens in the AWS lens JSON format (schemaVersion 2021-11-01), up to 2 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )
    # The library (a team's) the lens goes into; the view fills in the choices and says
    # whether the user may import at all.
    team = forms.UUIDField(label="Team", required=False, widget=forms.Select)
    can_import = False

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; "
                f"the limit is {MAX_FILE_BYTES // 1024 // 1024} MB."
            )
        return upload
