from docbin.cli import main

main()
