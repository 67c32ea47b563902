"""One module per teacher backend; distilloop.teachers.make_teacher picks one by params teacher.backend."""
