from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("questionnaires", "0003_lens_builtins_in_the_builtin_library"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='lens',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('is_builtin', True), ('library', '')), models.Q(('is_builtin', False), models.Q(('library', ''), _negated=True)), _connector='OR'), name='lens_builtin_iff_builtin_library'),
        ),
        migrations.AddConstraint(
            model_name='lens',
            constraint=models.CheckConstraint(condition=models.Q(('is_framework', False), ('is_builtin', True), _connector='OR'), name='lens_framework_is_builtin'),
        ),
    ]
