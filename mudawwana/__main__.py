from mudawwana.cli import main

main()
