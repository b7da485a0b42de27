"""multiround"""
