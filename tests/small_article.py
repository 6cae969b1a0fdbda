"""The small article the index and fault tests build from: a title and two paragraphs with a number each."""

ARTICLE = "Tiêu đề bài\n\nĐảng bộ thành phố kết nạp 640 đảng viên mới.\n\nTỷ lệ hộ nghèo giảm còn 1% trong năm.\n"
