# Entry point run by the firmware (board/common/main.c) at every boot.
from o3s import app

app.main()
